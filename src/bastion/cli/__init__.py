"""The ``bastion`` command line: Typer commands that parse, call the library and render.

Entry point: :func:`bastion.cli.main.run`. Each command group lives in its own module
(``banks``, ``keys``, ``scan``, ...); rendering is shared in :mod:`bastion.cli.output`.
"""
