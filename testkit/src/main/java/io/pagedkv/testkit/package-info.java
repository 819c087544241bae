/** Generators on a recorded choice sequence, properties, state machines and shrinking. */
package io.pagedkv.testkit;
