"""The tag dialog of the gallery: the tags of the selected images as check boxes, with a field
that adds a new tag."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.store import ImageRecord
from cmfy_desk.store.gallery import normalize_tags
from cmfy_desk.ui.gallery_search import image_count_text


class TagDialog(QDialog):
    """The tags of a selection as check boxes: checked when every image has the tag, partly
    checked when some have it. A new tag is typed with completion from the tags in use.
    changes() returns the tags to add to every image and the tags to remove from every one."""

    def __init__(
        self,
        selected: int,
        records: Sequence[ImageRecord] | None,
        known: Sequence[tuple[str, int]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Tags of {images}").format(images=image_count_text(selected)))
        self.list = QListWidget()
        counts: dict[str, tuple[str, int]] = {}
        if records is not None:
            for record in records:
                for tag in record.tags:
                    name, count = counts.get(tag.casefold(), (tag, 0))
                    counts[tag.casefold()] = (name, count + 1)
        else:
            counts = {name.casefold(): (name, -1) for name, _count in known}
        for name, count in sorted(counts.values(), key=lambda item: item[0].casefold()):
            self._add_item(name, count, selected)

        self.new_tag = QLineEdit()
        self.new_tag.setPlaceholderText(self.tr("New tag"))
        completer = QCompleter([name for name, _count in known], self.new_tag)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.new_tag.setCompleter(completer)
        self.new_tag.returnPressed.connect(self.add_typed_tag)
        add = QPushButton(self.tr("Add"))
        add.setAutoDefault(False)
        add.clicked.connect(self.add_typed_tag)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.new_tag, 1)
        row.addWidget(add)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(self.tr("Checked tags are set on every selected image, unchecked ones on none."))
        )
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(380, 420)

    def _add_item(self, name: str, count: int, selected: int) -> QListWidgetItem:
        if count == selected:
            state = Qt.CheckState.Checked
            label = name
        elif count == 0:
            state = Qt.CheckState.Unchecked
            label = name
        else:
            state = Qt.CheckState.PartiallyChecked
            label = (
                name
                if count < 0
                else self.tr("{tag} ({count} of {total})").format(
                    tag=name, count=count, total=selected
                )
            )
        item = QListWidgetItem(label)
        flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
        if state is Qt.CheckState.PartiallyChecked:
            flags |= Qt.ItemFlag.ItemIsUserTristate
        item.setFlags(flags)
        item.setCheckState(state)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setData(Qt.ItemDataRole.UserRole + 1, state.value)
        self.list.addItem(item)
        return item

    def add_typed_tag(self) -> None:
        """Add the typed tag, checked, or check it when it is listed."""
        names = normalize_tags([self.new_tag.text()])
        if not names:
            return
        name = names[0]
        for row in range(self.list.count()):
            item = self.list.item(row)
            if str(item.data(Qt.ItemDataRole.UserRole)).casefold() == name.casefold():
                item.setCheckState(Qt.CheckState.Checked)
                break
        else:
            self._add_item(name, 0, -1).setCheckState(Qt.CheckState.Checked)
        self.new_tag.clear()

    def changes(self) -> tuple[list[str], list[str]]:
        """Return ``(added, removed)``: tags now checked that not every image had, and tags
        now unchecked that some image had."""
        added: list[str] = []
        removed: list[str] = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            name = str(item.data(Qt.ItemDataRole.UserRole))
            before = Qt.CheckState(item.data(Qt.ItemDataRole.UserRole + 1))
            now = item.checkState()
            if now == Qt.CheckState.Checked and before != Qt.CheckState.Checked:
                added.append(name)
            elif now == Qt.CheckState.Unchecked and before != Qt.CheckState.Unchecked:
                removed.append(name)
        return added, removed
