/** The policy experiment harness: synthetic attention traces replayed through policies beside a shadow full cache. */
package io.pagedkv.eviction.harness;
