"""The pre-flight panel of the batch dialog: what the check found in one workflow, and fixes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.workflows.preflight import Finding, PreflightReport, Severity

_SEVERITY_ICONS = {
    Severity.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
    Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Severity.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
}
_ICON_SIZE = 18
# The finding of a local model file name without a URL in the model library.
MISSING_URL_CODE = "local_model_name"


class FindingRow(QWidget):
    """One finding: an icon for its severity, its message and the fix."""

    def __init__(self, finding: Finding, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.finding = finding
        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(_SEVERITY_ICONS[finding.severity]).pixmap(_ICON_SIZE)
        )
        icon.setToolTip(self._severity_name(finding.severity))
        self.message = QLabel(finding.message)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        text = QVBoxLayout()
        text.setSpacing(1)
        text.addWidget(self.message)
        self.fix: QLabel | None = None
        if finding.fix:
            self.fix = QLabel(self.tr("Fix: {fix}").format(fix=finding.fix))
            self.fix.setWordWrap(True)
            self.fix.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            self.fix.setTextFormat(Qt.TextFormat.PlainText)
            palette = self.fix.palette()
            palette.setColor(
                QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
            )
            self.fix.setPalette(palette)
            text.addWidget(self.fix)
        # Rows keep their text's height; the list's stretch takes the spare space.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)

    def _severity_name(self, severity: Severity) -> str:
        names = {
            Severity.ERROR: self.tr("Error: the batch cannot be queued"),
            Severity.WARNING: self.tr("Warning"),
            Severity.INFO: self.tr("Note"),
        }
        return names[severity]


class PreflightPanel(QGroupBox):
    """Shows a PreflightReport: node count, relative cost, and each finding.

    ``removeUnusedRequested()`` and ``canonicalUrlsRequested()`` are emitted by the fix
    buttons, shown only when the report has unused nodes or model URL replacements.
    ``modelLibraryRequested()`` is emitted by the button shown when a model file has no URL.
    """

    removeUnusedRequested = Signal()
    canonicalUrlsRequested = Signal()
    modelLibraryRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Pre-flight check"), parent)
        self.report: PreflightReport | None = None
        self._rows: list[FindingRow] = []

        self.summary = QLabel()
        self.summary.setWordWrap(True)

        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 4, 0)
        self._list_layout.setSpacing(4)
        self._list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._list)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.remove_unused_button = QPushButton(self.tr("Remove unused nodes"))
        self.remove_unused_button.setToolTip(
            self.tr("Remove the nodes that lead to no output from this workflow")
        )
        self.remove_unused_button.clicked.connect(self.removeUnusedRequested)
        self.canonical_urls_button = QPushButton(self.tr("Use canonical URLs"))
        self.canonical_urls_button.setToolTip(
            self.tr(
                "Write the model library's URL into every model input the check names. "
                "The change applies to every job of this workflow's batch."
            )
        )
        self.canonical_urls_button.clicked.connect(self.canonicalUrlsRequested)
        self.model_library_button = QPushButton(self.tr("Model library…"))
        self.model_library_button.setToolTip(
            self.tr("Add the download URL of each model file the check names")
        )
        self.model_library_button.clicked.connect(self.modelLibraryRequested)
        self.canonical_urls_note = QLabel(self.tr("applies to the whole batch"))
        self.canonical_urls_note.setEnabled(False)
        for button in (
            self.remove_unused_button,
            self.canonical_urls_button,
            self.model_library_button,
        ):
            button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_unused_button)
        buttons.addWidget(self.canonical_urls_button)
        buttons.addWidget(self.canonical_urls_note)
        buttons.addWidget(self.model_library_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.show_report(None)

    def show_report(self, report: PreflightReport | None) -> None:
        self.report = report
        for row in self._rows:
            self._list_layout.removeWidget(row)
            row.deleteLater()
        self._rows.clear()
        if report is None:
            self.summary.setText(self.tr("No workflow selected."))
            self.remove_unused_button.hide()
            self.canonical_urls_button.hide()
            self.canonical_urls_note.hide()
            self.model_library_button.hide()
            return

        counts = self.tr("{nodes} nodes · relative cost {cost:.1f}× per job").format(
            nodes=report.node_count, cost=report.relative_cost
        )
        if not report.findings:
            counts += " · " + self.tr("no problems found")
        elif report.errors:
            errors = len(report.errors)
            counts += " · " + (
                self.tr("1 error")
                if errors == 1
                else self.tr("{count} errors").format(count=errors)
            )
        self.summary.setText(counts)
        self.summary.setToolTip(
            self.tr(
                "Relative cost: estimated GPU time per job, where 1 is one 512×512 image "
                "in 20 steps"
            )
        )
        for finding in report.findings:
            row = FindingRow(finding)
            self._list_layout.insertWidget(self._list_layout.count() - 1, row)
            self._rows.append(row)
        self.remove_unused_button.setVisible(bool(report.unused_nodes))
        self.canonical_urls_button.setVisible(bool(report.replacements))
        self.canonical_urls_note.setVisible(bool(report.replacements))
        self.model_library_button.setVisible(
            any(finding.code == MISSING_URL_CODE for finding in report.errors)
        )

    def rows(self) -> list[FindingRow]:
        return list(self._rows)
