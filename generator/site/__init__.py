"""The site adapter: the MkDocs plugin, the HTML of a meme's figure and the series blocks.

Everything here is about one site generator and its HTML; the engine beside it (declarations,
templates, fitting, rendering, the cache) imports neither MkDocs nor Jinja2, so the posts and
the memes can move to another generator by writing a new adapter (import-linter keeps it so).
"""
