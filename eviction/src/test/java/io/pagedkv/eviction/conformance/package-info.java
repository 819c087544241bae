/**
 * The policy conformance kit (published in the eviction test-jar): extend {@link
 * io.pagedkv.eviction.conformance.EvictionPolicyConformance} with your own policy.
 */
package io.pagedkv.eviction.conformance;
