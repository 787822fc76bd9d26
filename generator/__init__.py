"""The meme engine: templates, declarations, text fitting and rendering.

A plain library: nothing here imports MkDocs or Jinja2 except `generator.site`, the thin adapter
(the plugin, a meme's figure, the series blocks), so the site can move to another generator
without a rewrite.
"""

# Part of every meme's hash: bump it whenever a change to the code changes the pixels.
RENDERER_VERSION = "1"
