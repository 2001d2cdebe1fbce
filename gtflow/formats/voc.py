"""PASCAL VOC XML: one ``<annotation>`` file per image.

Read with :mod:`defusedxml` (no DTDs, no entities: an annotation folder is untrusted input);
each element's line is kept so a bad box is reported as ``file.xml:LINE: object[2].bndbox.xmax``.

Boxes map as ``left = xmin``, ``top = ymin``, ``width = xmax - xmin``, ``height = ymax - ymin``
(and back), so a VOC -> manifest -> VOC round trip writes the same integer corners.
``difficult``/``truncated``/``pose`` are not carried (GT manifests have no place for them).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.xml").write_text('<annotation><filename>a.jpg</filename><size><width>50</width>'
    ...     '<height>40</height><depth>3</depth></size><object><name>dog</name><bndbox><xmin>1</xmin>'
    ...     '<ymin>2</ymin><xmax>11</xmax><ymax>22</ymax></bndbox></object></annotation>')
    >>> [(b.label, b.left, b.top, b.width, b.height) for b in read_voc_file(d / "a.xml").boxes]
    [('dog', 1.0, 2.0, 10.0, 20.0)]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from gtflow.errors import ContractError, GtflowError
from gtflow.formats._types import AnnotatedImage, Box, Sink, check_box, image_size_of

__all__ = ["read_voc_file", "read_voc", "voc_xml", "write_voc"]


def _parse(path: Path) -> tuple[Element, dict[int, int]]:
    """The root element and ``id(element) -> line`` for every element."""
    try:
        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import DefusedXMLParser
    except ImportError as exc:
        from gtflow.errors import MissingExtraError

        raise MissingExtraError.for_module("defusedxml", "local") from exc
    from xml.etree.ElementTree import ParseError

    lines: dict[int, int] = {}

    class _Builder(TreeBuilder):
        def start(self, tag: Any, attrs: Any) -> Element:
            el = super().start(tag, attrs)
            lines[id(el)] = parser.parser.CurrentLineNumber
            return el

    parser = DefusedXMLParser(target=_Builder(), forbid_dtd=True)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 16):
                parser.feed(chunk)
        root = parser.close()
    except ParseError as exc:
        raise ContractError(f"not well-formed XML: {exc}", path=str(path), line=exc.position[0]) from exc
    except DefusedXmlException as exc:
        raise ContractError(f"refused XML: {exc}", path=str(path)) from exc
    return root, lines


def _text(parent: Element, tag: str, where: str, path: Path, lines: dict[int, int], *, required: bool = True) -> str | None:
    el = parent.find(tag)
    if el is None or not (el.text or "").strip():
        if not required:
            return None
        raise ContractError(f"missing <{tag}>", path=str(path), line=lines.get(id(parent)),
                            field=f"{where}.{tag}" if where else tag)
    return (el.text or "").strip()


def _number(parent: Element, tag: str, where: str, path: Path, lines: dict[int, int]) -> float:
    text = _text(parent, tag, where, path, lines)
    el = parent.find(tag)
    try:
        return float(str(text))
    except ValueError:
        raise ContractError(f"{text!r} is not a number", path=str(path),
                            line=lines.get(id(el)) if el is not None else None, field=f"{where}.{tag}") from None


def read_voc_file(path: Path, *, images_dir: Path | None = None) -> AnnotatedImage:
    """One VOC annotation file as an :class:`AnnotatedImage` (ContractError names line and element).

    Without ``<size>``, the size is read from the image in ``images_dir``.
    """
    path = Path(path)
    root, lines = _parse(path)
    if root.tag != "annotation":
        raise ContractError(f"root element is <{root.tag}>, not <annotation>", path=str(path), line=lines.get(id(root)))
    filename = _text(root, "filename", "", path, lines)
    assert filename is not None
    size = root.find("size")
    if size is not None and size.find("width") is not None:
        width, height = int(_number(size, "width", "size", path, lines)), int(_number(size, "height", "size", path, lines))
        depth_text = _text(size, "depth", "size", path, lines, required=False)
        depth = int(float(depth_text)) if depth_text else 3
    else:
        width, height, depth = image_size_of((images_dir or path.parent) / filename)
    if width <= 0 or height <= 0:
        raise ContractError(f"image size {width}x{height} is empty (fill <size> or give the images)",
                            path=str(path), line=lines.get(id(size)) if size is not None else None, field="size")
    boxes = []
    for i, obj in enumerate(root.findall("object")):
        where = f"object[{i}]"
        name = _text(obj, "name", where, path, lines)
        bnd = obj.find("bndbox")
        if bnd is None:
            raise ContractError("missing <bndbox>", path=str(path), line=lines.get(id(obj)), field=f"{where}.bndbox")
        w = f"{where}.bndbox"
        x0, y0 = _number(bnd, "xmin", w, path, lines), _number(bnd, "ymin", w, path, lines)
        x1, y1 = _number(bnd, "xmax", w, path, lines), _number(bnd, "ymax", w, path, lines)
        box = Box(str(name), x0, y0, x1 - x0, y1 - y0)
        boxes.append(check_box(box, width, height, path=str(path), line=lines.get(id(bnd)), field=w))
    return AnnotatedImage(file=filename, width=width, height=height, depth=depth, boxes=tuple(boxes),
                          source=str(path))


def _voc_dirs(src: Path) -> tuple[Path, Path]:
    """``(annotations folder, images folder)`` of a VOC folder or a folder of XML files."""
    if (src / "Annotations").is_dir():
        images = src / "JPEGImages"
        return src / "Annotations", images if images.is_dir() else src
    return src, src


def read_voc(src: Path | str, *, images_dir: Path | str | None = None,
             errors: list[GtflowError] | None = None) -> Iterator[tuple[AnnotatedImage, Path]]:
    """Every ``*.xml`` of a VOC folder (``Annotations/`` + ``JPEGImages/``) or of a plain folder,
    sorted by name, with the image's path. Bad files raise, or go to ``errors`` when given."""
    ann_dir, img_dir = _voc_dirs(Path(src))
    if images_dir is not None:
        img_dir = Path(images_dir)
    files = sorted(ann_dir.glob("*.xml"))
    if not files:
        raise ContractError("no *.xml annotation files", path=str(ann_dir))
    for f in files:
        try:
            item = read_voc_file(f, images_dir=img_dir)
        except GtflowError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        yield item, img_dir / item.file


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def voc_xml(item: AnnotatedImage, *, folder: str = "JPEGImages") -> bytes:
    """The VOC ``<annotation>`` document for ``item`` (UTF-8, indented)."""
    from xml.etree.ElementTree import SubElement, indent, tostring

    root = Element("annotation")
    SubElement(root, "folder").text = folder
    SubElement(root, "filename").text = Path(item.file).name
    size = SubElement(root, "size")
    for tag, n in (("width", item.width), ("height", item.height), ("depth", item.depth)):
        SubElement(size, tag).text = str(n)
    SubElement(root, "segmented").text = "0"
    for b in item.boxes:
        obj = SubElement(root, "object")
        SubElement(obj, "name").text = b.label
        SubElement(obj, "pose").text = "Unspecified"
        SubElement(obj, "truncated").text = "0"
        SubElement(obj, "difficult").text = "0"
        bnd = SubElement(obj, "bndbox")
        for tag, v in (("xmin", b.left), ("ymin", b.top), ("xmax", b.right), ("ymax", b.bottom)):
            SubElement(bnd, tag).text = _fmt(v)
    indent(root)
    return tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def write_voc(items: Iterable[AnnotatedImage], sink: Sink) -> int:
    """``Annotations/<stem>.xml`` per image; returns how many were written."""
    n = 0
    for item in items:
        sink.put(f"Annotations/{Path(item.file).stem}.xml", voc_xml(item))
        n += 1
    return n
