"""Compatibility layers: the blog's API over the Keras one."""
