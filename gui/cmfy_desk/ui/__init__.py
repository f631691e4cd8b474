"""The window: main window, item models, dialogs and the notice panel (Qt widgets)."""
