"""The embedded testbed's tiny models: tokenizer, architectures, training recipes, shipped paths."""
