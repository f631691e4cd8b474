"""Workflow formats, graph inspection and batch expansion. Imports nothing else of ours."""
