/** Model attention shapes: presets and readers for config.json, GGUF and llama2.c headers. */
package io.pagedkv.model;
