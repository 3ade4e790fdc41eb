"""Imported by the fork server digest.pdf renders from: warms WeasyPrint up, once.

The first render in a process loads hyphenation dictionaries and compiles C bindings,
about a third of a second that each forked render would otherwise pay again. Rendering a
small document here, before any fork, lets every render inherit that work.
"""

from .pdf import warm_up

warm_up()
