"""Window arithmetic shared by convolution and pooling: sizes, padding, strided views of windows.

`windows(x, kernel, strides, out)` is a strided view listing every receptive field of
channels-last images without copying; `offset_slices` picks, for one kernel offset,
the input positions every window reads there (used to scatter gradients back).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .base import Layer

PADDINGS = ("valid", "same")


def pair(value, name: str) -> tuple[int, int]:
    """An int or a pair of positive ints -> `(rows, cols)`, or a ValueError naming `name`."""
    items = value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        items = (value, value)
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    ok = len(items) == 2 and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in items)
    if not ok:
        raise ValueError(f"`{name}` must be a positive integer or a pair of positive integers. Received: {name}={value!r}")
    return int(items[0]), int(items[1])


def check_padding(padding, allowed=PADDINGS, aliases=None) -> str:
    """Lower-case `padding` and check it is one of `allowed` (after `aliases`)."""
    key = padding.lower() if isinstance(padding, str) else padding
    key = (aliases or {}).get(key, key)
    if key not in allowed:
        names = list(allowed) + [name for name in (aliases or {}) if isinstance(name, str)]
        raise ValueError(f"`padding` must be one of {', '.join(map(repr, names))}. Received: padding={padding!r}")
    return key


def conv_output_size(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """`(output size, padding before, padding after)` along one axis, as Keras/TensorFlow do it.

    "valid": no padding, `out = (size - kernel) // stride + 1` (0 when the kernel does not fit).
    "same": `out = ceil(size / stride)`, padded by `max((out - 1) * stride + kernel - size, 0)`
    in total, the odd one at the end (bottom/right).
    """
    if padding == "valid":
        return ((size - kernel) // stride + 1 if size >= kernel else 0), 0, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def windows(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], out: tuple[int, int],
            dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """Read-only view `(batch, out_h, out_w, kh, kw, channels)` of every window of `x` (no copy);
    with `dilation` `(dh, dw)` a window reads every dh-th row and dw-th column."""
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    return np.lib.stride_tricks.as_strided(
        x, shape=(n, out[0], out[1], kernel[0], kernel[1], c),
        strides=(sn, sh * strides[0], sw * strides[1], sh * dilation[0], sw * dilation[1], sc), writeable=False)


def dilated(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """The span of a dilated kernel: `(k - 1) * d + 1` along each axis."""
    return tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))


def offset_slices(i: int, j: int, strides: tuple[int, int], out: tuple[int, int]) -> tuple[slice, slice, slice, slice]:
    """Index of the input pixels that kernel offset `(i, j)` touches, one per output position."""
    return (slice(None), slice(i, i + strides[0] * (out[0] - 1) + 1, strides[0]),
            slice(j, j + strides[1] * (out[1] - 1) + 1, strides[1]), slice(None))


def spatial_output_shape(layer: Layer, input_shape, kernel, strides, padding, kernel_arg: str):
    """Output `(out_h, out_w)` and paddings for an image layer; raises for bad ranks or kernels."""
    if len(input_shape) != 3:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects images of shape (height, width, channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    (oh, top, bottom), (ow, left, right) = (conv_output_size(size, k, s, padding)
                                            for size, k, s in zip(input_shape[:2], kernel, strides))
    if input_shape[0] + top + bottom < kernel[0] or input_shape[1] + left + right < kernel[1]:
        raise ValueError(
            f"`{kernel_arg}` {kernel} of layer {layer.name!r} is larger than its "
            f"{'padded ' if padding != 'valid' else ''}input of {input_shape[0] + top + bottom}x"
            f"{input_shape[1] + left + right} pixels. Received: {kernel_arg}={kernel}, input_shape={tuple(input_shape)}"
        )
    return (oh, ow), ((top, bottom), (left, right))


def pad_images(x: np.ndarray, pads, value=0) -> np.ndarray:
    """`x` padded on height and width by `pads = ((top, bottom), (left, right))`; `x` itself if none."""
    if not any(pads[0]) and not any(pads[1]):
        return x
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def crop_images(x: np.ndarray, pads) -> np.ndarray:
    """Undo `pad_images` on a gradient (a view)."""
    (top, bottom), (left, right) = pads
    return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]
