"""The zip container: config.json plus one .npy member per array, written deterministically and
read back with every size bounded by what the file really holds."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np

from .budgets import check_central_directory
from .checks import (CONFIG_MEMBER, FORMAT_VERSION, MAX_CONFIG_BYTES, MAX_DEFLATE_RATIO, MAX_MEMBERS,
                     MAX_NPY_HEADER_BYTES, _ARRAY_KINDS, ModelFileError, _barenet_version, _is_int,
                     _open_regular, _require)


def _write_zip(f, config: dict, arrays: dict[str, np.ndarray]) -> None:
    text = json.dumps(config, indent=1, default=_json_default, allow_nan=True)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        # A fixed timestamp: the same model gives the same bytes.
        zf.writestr(zipfile.ZipInfo(CONFIG_MEMBER, date_time=(1980, 1, 1, 0, 0, 0)), text.encode("utf-8"))
        for member, value in arrays.items():
            with zf.open(zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True) as handle:
                # np.ascontiguousarray would turn a scalar weight (shape ()) into shape (1,).
                np.save(handle, np.asarray(value, order="C"), allow_pickle=False)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.size <= 64:
        return value.tolist()
    raise TypeError(f"Cannot save a value of type {type(value).__name__} in a model config: {value!r}")


# --- reading: the zip container ---------------------------------------------------------------
class _Archive:
    """A zip opened for reading, with its members checked and reads bounded."""

    def __init__(self, zf: zipfile.ZipFile, archive_bytes: int):
        self.zf = zf
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ModelFileError(f"it has {len(infos)} members; at most {MAX_MEMBERS} are allowed.")
        self.infos: dict[str, zipfile.ZipInfo] = {}
        compressed = 0
        for info in infos:
            # What a member can inflate to is bounded by what the file really holds.
            compressed += info.compress_size
            _require(compressed <= archive_bytes,
                     f"its members claim more compressed bytes than the file's {archive_bytes}.")
            limit = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
                MAX_DEFLATE_RATIO * info.compress_size + 1024
            _require(info.file_size <= limit, f"member {info.filename!r} claims {info.file_size} bytes from "
                                              f"{info.compress_size} compressed ones.")
            if info.filename in self.infos:
                raise ModelFileError(f"member {info.filename!r} appears twice in the zip.")
            if info.flag_bits & 0x1:
                raise ModelFileError(f"member {info.filename!r} is encrypted.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ModelFileError(f"member {info.filename!r} uses an unsupported compression method "
                                     f"({info.compress_type}); expected stored or deflated.")
            self.infos[info.filename] = info
        self.used: set[str] = set()
        self.array_bytes = sum(info.file_size for name, info in self.infos.items() if name != CONFIG_MEMBER)

    def read(self, member: str, max_bytes: int) -> bytes:
        info = self.infos.get(member)
        if info is None:
            raise ModelFileError(f"member {member!r} is missing from the zip.")
        if info.file_size > max_bytes:
            raise ModelFileError(f"member {member!r} is {info.file_size} bytes; at most {max_bytes} expected.")
        self.used.add(member)
        with self.zf.open(info) as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ModelFileError(f"member {member!r} holds more than the {max_bytes} bytes expected.")
        return data

    def check_all_used(self) -> None:
        extra = sorted(set(self.infos) - self.used)
        if extra:
            raise ModelFileError(f"the zip has unexpected members: {', '.join(map(repr, extra[:5]))}.")


def _open_archive(path: Path, expected_formats: tuple[str, ...]):
    f = _open_regular(path)
    try:
        check_central_directory(f)
        archive_bytes = f.seek(0, 2)
        f.seek(0)
        try:
            zf = zipfile.ZipFile(f)
        except zipfile.BadZipFile as error:
            raise ModelFileError(f"it is not a valid zip archive (truncated or corrupted?): {error}") from None
        archive = _Archive(zf, archive_bytes)
        config = _read_config(archive, expected_formats)
    except BaseException:
        f.close()
        raise
    return archive, config


def _read_config(archive: _Archive, expected_formats: tuple[str, ...]) -> dict:
    raw = archive.read(CONFIG_MEMBER, MAX_CONFIG_BYTES)
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{CONFIG_MEMBER} is not valid JSON: {error}") from None
    _require(isinstance(config, dict), f"{CONFIG_MEMBER} must hold a JSON object. Received: {type(config).__name__}")
    file_format = config.get("format")
    _require(file_format in expected_formats,
             f"{CONFIG_MEMBER} names format {file_format!r}; expected {' or '.join(map(repr, expected_formats))}.")
    version = config.get("format_version")
    _require(_is_int(version) and version >= 1,
             f"format_version must be a positive integer. Received: {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"it was written in format version {version} (barenet {config.get('barenet_version')!r}); "
            f"this barenet ({_barenet_version()}) reads up to version {FORMAT_VERSION}. Upgrade barenet."
        )
    return config


def _read_array(archive: _Archive, entry, target: np.ndarray, where: str, cast: bool = False) -> np.ndarray:
    """Read the array `entry` points to and check it against `target` (shape, and dtype unless `cast`)."""
    _require(isinstance(entry, dict), f"{where}: expected an array entry object. Received: {entry!r:.80}")
    member, shape, dtype = entry.get("member"), entry.get("shape"), entry.get("dtype")
    _require(isinstance(member, str), f"{where}: 'member' must be a string. Received: {member!r:.80}")
    _require(isinstance(shape, list) and all(_is_int(d) and d >= 0 for d in shape),
             f"{where}: 'shape' must be a list of non-negative integers. Received: {shape!r:.80}")
    _require(tuple(shape) == target.shape,
             f"{where} has shape {tuple(shape)} in the file, but the model's array has shape {target.shape}.")
    _require(isinstance(dtype, str), f"{where}: 'dtype' must be a string. Received: {dtype!r:.80}")
    try:
        declared = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ModelFileError(f"{where}: unknown dtype {dtype!r:.80}.") from None
    _require(declared.kind in _ARRAY_KINDS and declared.fields is None,
             f"{where}: dtype {dtype!r} is not a numeric dtype.")
    if cast:
        _require(declared.kind == target.dtype.kind or {declared.kind, target.dtype.kind} <= set("iu"),
                 f"{where} has dtype {declared} in the file; the model's array is {target.dtype}.")
    else:
        _require(declared == target.dtype,
                 f"{where} has dtype {declared} in the file, but the model's array is {target.dtype}.")
    nbytes = math.prod(shape) * declared.itemsize
    data = archive.read(member, nbytes + MAX_NPY_HEADER_BYTES)
    try:
        value = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:  # np.load raises several types for damaged data
        raise ModelFileError(f"{where}: member {member!r} is not a valid .npy array: {error}") from None
    _require(isinstance(value, np.ndarray) and value.shape == tuple(shape) and value.dtype == declared,
             f"{where}: member {member!r} holds {getattr(value, 'dtype', '?')} {getattr(value, 'shape', '?')}, "
             f"but the config says {declared} {tuple(shape)}.")
    if value.dtype.kind == "f":
        with np.errstate(over="ignore"):
            value = value.astype(target.dtype, copy=False)
        _require(np.isfinite(value).all(), f"{where}: member {member!r} holds NaN or infinite values"
                                           f"{' once cast to ' + str(target.dtype) if cast else ''}.")
    return value


