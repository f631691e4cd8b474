"""Collect PySide6.QtNetwork as PyInstaller's own hook does, minus the Qt plugins the app never
loads: the app uses QtNetwork only for the local socket that hands files to a running window, so
the TLS backends (and the OpenSSL libraries they would bring) and network information stay out.
The filtering is the QtGui hook's, loaded from the file beside this one.
"""

from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

_spec = spec_from_file_location(
    "cmfy_desk_qtgui_hook", Path(__file__).with_name("hook-PySide6.QtGui.py")
)
_qtgui_hook = module_from_spec(_spec)
_spec.loader.exec_module(_qtgui_hook)


def hook(hook_api):
    _qtgui_hook.collect_used(hook_api, __file__)
