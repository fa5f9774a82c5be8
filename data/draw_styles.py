"""Draw the project's own style images, so that their licence is the project's own.

Run it with ``python data/draw_styles.py``. It writes four 512x512 images next to
this file:

* ``brushstrokes.jpg``  - an impasto oil sketch: thick translucent strokes that
  follow a smooth flow field, with bristle streaks and raised paint relief;
* ``mosaic.jpg``        - a Byzantine-style mosaic: irregular tesserae (a
  Voronoi diagram) with dark grout and a sun medallion;
* ``swirls.jpg``        - Van-Gogh-like swirls: rhythmic dashes along the
  streamlines of a few vortices, in blues and yellows;
* ``stained_glass.png`` - a rose window: jewel-coloured glass pieces separated
  by thick black lead.

The three painterly images are JPEG (quality 95) because their fine texture
makes PNG files larger than 400 kB; the stained glass is PNG.

Only numpy and Pillow are used. Every random number comes from
``numpy.random.default_rng(seed)`` with a fixed seed, so the script writes the
same bytes on every run (with the same numpy and Pillow versions).

Conventions: images are float arrays of shape (height, width, 3) with values in
[0, 1]; points are (x, y) pairs in pixels, x to the right and y downwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 512  # width and height of every image, in pixels
MAX_BYTES = 400_000  # keep every committed image under this size


# --------------------------------------------------------------------------
# Small building blocks shared by the images
# --------------------------------------------------------------------------


def hex_colour(code: str) -> np.ndarray:
    """Turn '#rrggbb' into an RGB float array in [0, 1]."""
    code = code.lstrip("#")
    return np.array([int(code[i : i + 2], 16) for i in (0, 2, 4)]) / 255.0


def smoothstep(t: np.ndarray) -> np.ndarray:
    """Ease 0..1 smoothly (zero slope at both ends)."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def value_noise(rng: np.random.Generator, size: int, cells: int, octaves: int = 1) -> np.ndarray:
    """Smooth random field in [0, 1] of shape (size, size).

    Random values on a coarse (cells x cells) lattice are blended with a
    smoothstep between lattice points. Each extra octave doubles the lattice
    frequency and halves the amplitude, which adds finer detail ("fractal"
    noise).
    """
    total = np.zeros((size, size))
    weight = 0.0
    amplitude = 1.0
    for octave in range(octaves):
        n = cells * 2**octave
        lattice = rng.random((n + 1, n + 1))
        coord = np.arange(size) * n / size
        i = coord.astype(int)
        f = smoothstep(coord - i)
        rows = lattice[i] * (1 - f)[:, None] + lattice[i + 1] * f[:, None]
        layer = rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :]
        total += amplitude * layer
        weight += amplitude
        amplitude *= 0.5
    return total / weight


def box_blur(a: np.ndarray, radius: int) -> np.ndarray:
    """Blur a 2-D array with a (2 * radius + 1)-wide box, using cumulative sums."""
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius + 1, radius)
        c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis)
        n = a.shape[axis]
        hi = np.take(c, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
        lo = np.take(c, np.arange(0, n), axis=axis)
        a = (hi - lo) / (2 * radius + 1)
    return a


def sample(field: np.ndarray, x: float, y: float) -> np.ndarray:
    """Nearest-pixel look-up in a field, with coordinates clamped to the image."""
    h, w = field.shape[:2]
    return field[min(max(int(y), 0), h - 1), min(max(int(x), 0), w - 1)]


def trace_streamline(
    vx: np.ndarray,
    vy: np.ndarray,
    start: np.ndarray,
    length: float,
    step: float = 3.0,
) -> np.ndarray:
    """Follow a vector field from `start` for about `length` pixels.

    Simple Euler integration of the normalised field; returns the visited
    points as an array of shape (k, 2).
    """
    points = [np.asarray(start, dtype=float)]
    for _ in range(max(int(length / step), 1)):
        x, y = points[-1]
        d = np.array([sample(vx, x, y), sample(vy, x, y)])
        norm = np.hypot(*d)
        if norm < 1e-9:
            break
        points.append(points[-1] + step * d / norm)
    return np.array(points)


def stroke_box(path: np.ndarray, half: float, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The pixel box (x0, x1, y0, y1) that a stroke of half-width `half` can touch.

    The box is clipped to an image of the given (height, width) shape; None
    when it is empty or the path has fewer than two points, i.e. when there
    is nothing to paint.
    """
    h, w = shape[:2]
    x0 = max(int(path[:, 0].min() - half - 2), 0)
    x1 = min(int(path[:, 0].max() + half + 3), w)
    y0 = max(int(path[:, 1].min() - half - 2), 0)
    y1 = min(int(path[:, 1].max() + half + 3), h)
    if x0 >= x1 or y0 >= y1 or len(path) < 2:
        return None
    return x0, x1, y0, y1


def stroke_coordinates(
    px: np.ndarray, py: np.ndarray, path: np.ndarray, half: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stroke coordinates (along, across, dist) of pixels (px, py) near a polyline.

    For every pixel the nearest point on the polyline is found segment by
    segment (projection clamped to the segment). `dist` is the distance to it,
    `along` the arc length up to it as a fraction of the whole path (0 at the
    start, 1 at the end) and `across` the signed distance in half-widths
    (-1 on one edge, +1 on the other; the sign of the cross product with the
    segment says on which side the pixel lies).
    """
    # Distance from every pixel to every segment of the polyline.
    a = path[:-1]
    ab = path[1:] - a
    seg_len2 = (ab**2).sum(axis=1) + 1e-9
    rx = px[..., None] - a[:, 0]
    ry = py[..., None] - a[:, 1]
    t = np.clip((rx * ab[:, 0] + ry * ab[:, 1]) / seg_len2, 0.0, 1.0)
    dx = rx - t * ab[:, 0]
    dy = ry - t * ab[:, 1]
    dist2 = dx**2 + dy**2
    nearest = np.argmin(dist2, axis=-1)[..., None]
    dist = np.sqrt(np.take_along_axis(dist2, nearest, axis=-1))[..., 0]
    t = np.take_along_axis(t, nearest, axis=-1)[..., 0]
    nearest = nearest[..., 0]
    # The sign of the cross product says on which side of the path we are.
    to_x = px - a[nearest, 0]
    to_y = py - a[nearest, 1]
    cross = ab[nearest, 0] * to_y - ab[nearest, 1] * to_x

    seg_len = np.sqrt(seg_len2)
    start_of = np.concatenate([[0.0], np.cumsum(seg_len)])
    along = (start_of[nearest] + t * seg_len[nearest]) / start_of[-1]
    across = np.clip(np.sign(cross) * dist / half, -1.0, 1.0)
    return along, across, dist


def paint_stroke(
    canvas: np.ndarray,
    relief: np.ndarray,
    path: np.ndarray,
    width: float,
    colour: np.ndarray,
    opacity: float,
    rng: np.random.Generator,
    dry_brush: float = 0.5,
) -> None:
    """Paint one brush stroke along a polyline, in place.

    Every pixel of the stroke's bounding box gets stroke coordinates `along`
    and `across` (see `stroke_coordinates`). A random 1-D "bristle" profile
    indexed by `across` streaks the colour and the opacity like the hairs of
    a real brush; towards the end of the stroke the paint runs out and the
    streaks break up (dry brush). The stroke is alpha-blended into `canvas`
    and its paint thickness into `relief`, a height map that is later lit to
    make the strokes look raised.
    """
    half = width / 2.0
    box = stroke_box(path, half, relief.shape)
    if box is None:
        return
    x0, x1, y0, y1 = box
    py, px = np.mgrid[y0:y1, x0:x1].astype(float)
    along, across, dist = stroke_coordinates(px, py, path, half)

    # The brush is a little narrower where it touches down and lifts off.
    taper = np.clip(np.minimum(along / 0.12, (1.0 - along) / 0.2), 0.35, 1.0)
    coverage = np.clip(half * np.sqrt(taper) - dist + 0.5, 0.0, 1.0)

    # Bristles: a random profile across the brush, sampled at `across`.
    n_bristles = max(int(width * 0.8), 4)
    bristles = rng.random(n_bristles + 1)
    bristle = np.interp((across + 1.0) / 2.0 * n_bristles, np.arange(n_bristles + 1), bristles)
    dry = np.clip(bristle + 1.2 - dry_brush * 2.4 * along, 0.0, 1.0)
    alpha = opacity * coverage * (0.55 + 0.45 * bristle) * dry

    paint = colour * (0.88 + 0.24 * bristle[..., None])
    region = canvas[y0:y1, x0:x1]
    region += alpha[..., None] * (np.clip(paint, 0, 1) - region)

    thickness = np.sqrt(np.clip(1.0 - across**2, 0.0, 1.0)) * (0.5 + 0.5 * bristle)
    relief_region = relief[y0:y1, x0:x1]
    relief_region += np.clip(alpha * 1.6, 0, 1) * (thickness - relief_region)


def light_relief(canvas: np.ndarray, relief: np.ndarray, strength: float, gloss: float) -> np.ndarray:
    """Shade a canvas by its paint relief, lit from the upper left.

    The relief gradient acts as a surface slope: slopes facing the light get
    brighter, the others darker, and the steepest lit slopes get a small
    white highlight, like light catching the ridges of thick oil paint.
    """
    smooth = box_blur(relief, 1)
    gy, gx = np.gradient(smooth)
    facing = -(gx + gy) / np.sqrt(2.0)  # light direction (-1, -1) / sqrt(2)
    shade = 1.0 + strength * facing
    highlight = gloss * np.clip(facing * 4.0 - 0.6, 0.0, 1.0) ** 2
    lit = canvas * shade[..., None] + highlight[..., None]
    return np.clip(lit, 0.0, 1.0)


def voronoi(seeds: np.ndarray, xs: np.ndarray, ys: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells by brute force.

    For every pixel (coordinates `xs`, `ys`, which may be warped) find the
    nearest seed (its `label`) and the distance to the border with the
    second-nearest seed, i.e. to the perpendicular bisector of the two seeds.
    That border distance is what draws grout or lead lines of even width.
    """
    fx = xs.ravel().astype(np.float32)
    fy = ys.ravel().astype(np.float32)
    sx = seeds[:, 0].astype(np.float32)
    sy = seeds[:, 1].astype(np.float32)
    label = np.empty(fx.size, dtype=np.int64)
    border = np.empty(fx.size, dtype=np.float32)
    for lo in range(0, fx.size, chunk):
        cx = fx[lo : lo + chunk, None]
        cy = fy[lo : lo + chunk, None]
        d2 = (cx - sx) ** 2 + (cy - sy) ** 2
        rows = np.arange(d2.shape[0])
        first = np.argmin(d2, axis=1)
        d_first = d2[rows, first]
        d2[rows, first] = np.inf
        second = np.argmin(d2, axis=1)
        d_second = d2[rows, second]
        gap = np.hypot(sx[second] - sx[first], sy[second] - sy[first])
        label[lo : lo + chunk] = first
        border[lo : lo + chunk] = (d_second - d_first) / (2.0 * gap + 1e-6)
    return label.reshape(xs.shape), border.reshape(xs.shape)


def to_image(rgb: np.ndarray) -> Image.Image:
    """Float RGB in [0, 1] -> 8-bit Pillow image."""
    return Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")


# --------------------------------------------------------------------------
# The four images
# --------------------------------------------------------------------------


def sunset_sky(
    y: np.ndarray, horizon: np.ndarray, r_sun: np.ndarray, n1: np.ndarray, n2: np.ndarray, n3: np.ndarray
) -> np.ndarray:
    """The reference sky: ochre to orange with red patches, blue clouds and a glowing sun.

    `r_sun` is every pixel's distance to the sun; `n1`, `n2` and `n3` are
    value-noise fields that break up the colour gradients and shape the clouds.
    """
    ultramarine = hex_colour("#1f3f9a")
    violet = hex_colour("#5a3d8c")
    ochre = hex_colour("#c8922e")
    orange = hex_colour("#ec7a1c")
    red = hex_colour("#b8401e")
    cream = hex_colour("#fbe9b7")
    yellow = hex_colour("#f6c453")
    sky_mix = smoothstep((y / horizon) * 1.1 - 0.1 + (n1 - 0.5) * 0.6)
    sky = ochre * (1 - sky_mix[..., None]) + orange * sky_mix[..., None]
    sky = sky + (red - sky) * smoothstep((n2 - 0.55) * 3.0)[..., None] * 0.8
    # A few blue clouds against the warm sky: complementary contrast.
    cloud = smoothstep((n3 - 0.56) * 7.0) * smoothstep((horizon - 40 - y) / 60.0)
    cloud = cloud * (r_sun > 80)
    cloud_colour = ultramarine * (1 - n1[..., None]) + violet * n1[..., None]
    sky = sky + (cloud_colour - sky) * cloud[..., None] * 0.9
    glow = np.exp(-((r_sun / 95.0) ** 2))
    sky = sky + (yellow - sky) * glow[..., None]
    return sky + (cream - sky) * (r_sun < 34)[..., None]


def sunset_water(
    x: np.ndarray, y: np.ndarray, horizon: np.ndarray, sun: np.ndarray, n1: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The reference sea, teal near the horizon and navy close by, with the sun's reflection.

    Returns the water colours and the reflection `column` (a wobbly Gaussian
    around the sun's x that widens towards the viewer), which the flow field
    reuses.
    """
    navy = hex_colour("#0c1a4a")
    ultramarine = hex_colour("#1f3f9a")
    teal = hex_colour("#16697a")
    orange = hex_colour("#ec7a1c")
    depth = smoothstep((y - horizon) / (SIZE - horizon.min()) * 1.4 + (n2 - 0.5) * 0.5)
    water = teal * (1 - depth[..., None]) + navy * depth[..., None]
    water = water + (ultramarine - water) * smoothstep((n1 - 0.45) * 4)[..., None] * 0.7
    # The sun's reflection: a wobbly warm column on the water.
    wobble = 18 * np.sin(y / 9.0) * (n2 - 0.3)
    spread = 28 + 0.25 * np.clip(y - horizon, 0, None)  # wider towards us
    column = np.exp(-(((x + wobble - sun[0]) / spread) ** 2))
    ripples = 0.5 + 0.5 * np.sin(y / 3.5 + 6 * n1)
    water = water + (orange - water) * (column * ripples)[..., None] * 0.9
    return water, column


def sunset_flow(
    rng: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    sun: np.ndarray,
    horizon: np.ndarray,
    r_sun: np.ndarray,
    n1: np.ndarray,
    column: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The flow field (vx, vy) the strokes follow: a swirl around the sun, undulating sky, flat water.

    The sky's angle mixes a slow wave with noise and turns into the circle's
    tangent near the sun (Gaussian weight of width 75 px); the water flows
    almost horizontally and turns vertical-ish in the reflection, like broken light.
    """
    ang_noise = (value_noise(rng, SIZE, 4, octaves=2) - 0.5) * 2.4
    swirl = np.exp(-((r_sun / 75.0) ** 2))
    tx, ty = -(y - sun[1]) / (r_sun + 1), (x - sun[0]) / (r_sun + 1)
    sky_angle = 0.4 * np.sin(x / 70.0 + 3 * n1) + 0.7 * ang_noise
    vx_sky = np.cos(sky_angle) * (1 - swirl) + tx * swirl * 1.3
    vy_sky = np.sin(sky_angle) * (1 - swirl) + ty * swirl * 1.3
    water_angle = 0.22 * ang_noise
    vx = np.where(y < horizon, vx_sky, np.cos(water_angle))
    vy = np.where(y < horizon, vy_sky, np.sin(water_angle))
    vy = vy + (y >= horizon) * column * 0.35 * np.sin(x / 5.0)
    return vx, vy


def paint_sunset_strokes(
    rng: np.random.Generator,
    canvas: np.ndarray,
    relief: np.ndarray,
    reference: np.ndarray,
    vx: np.ndarray,
    vy: np.ndarray,
) -> None:
    """Paint the sunset's strokes in place, in three passes from big brushes to small ones.

    Each stroke takes the reference colour at its random start (with a small
    random change of brightness and hue) and follows the flow field (vx, vy).
    """
    passes = [  # (number of strokes, width range, length range, opacity)
        (900, (16, 24), (30, 60), 0.85),
        (2600, (9, 14), (18, 40), 0.8),
        (2600, (4, 7), (10, 24), 0.75),
    ]
    for count, (w_lo, w_hi), (l_lo, l_hi), opacity in passes:
        starts = rng.random((count, 2)) * SIZE
        for start in starts:
            colour = sample(reference, *start)
            colour = colour * rng.uniform(0.86, 1.14) + rng.normal(0, 0.035, 3)
            path = trace_streamline(vx, vy, start, rng.uniform(l_lo, l_hi))
            width = rng.uniform(w_lo, w_hi)
            colour = np.clip(colour, 0, 1)
            paint_stroke(canvas, relief, path, width, colour, opacity, rng)


def draw_brushstrokes(seed: int = 1) -> Image.Image:
    """An expressive impasto oil sketch of a sunset over water.

    Technique ("painterly rendering"): first build a blurry reference picture
    (warm ochre sky with a low sun, deep blue water with an orange
    reflection). Then paint thousands of short strokes in three passes, from
    big brushes to small ones. Each stroke starts at a random point, takes
    the reference colour there (with a small random shift) and follows a
    smooth flow field: circles around the sun, rolling curves in the sky and
    nearly horizontal lines on the water. Strokes are translucent, streaked
    by bristles and leave relief that is lit at the end.
    """
    rng = np.random.default_rng(seed)
    n = SIZE
    y, x = np.mgrid[0:n, 0:n].astype(float)
    sun = np.array([0.66 * n, 0.30 * n])
    horizon = 0.56 * n + 10 * np.sin(x / n * 2 * np.pi * 1.3)
    n1 = value_noise(rng, n, 3, octaves=3)
    n2 = value_noise(rng, n, 5, octaves=2)
    n3 = value_noise(rng, n, 4, octaves=3)
    r_sun = np.hypot(x - sun[0], y - sun[1])

    sky = sunset_sky(y, horizon, r_sun, n1, n2, n3)
    water, column = sunset_water(x, y, horizon, sun, n1, n2)
    reference = np.where((y < horizon)[..., None], sky, water)
    # A dark distant coast line on the left.
    coast = (y > horizon - 26 - 30 * n2 + 0.06 * x) & (y < horizon) & (x < 0.45 * n)
    navy, plum = hex_colour("#0c1a4a"), hex_colour("#3b1f4a")
    reference[coast] = navy * 0.7 + plum * 0.3

    vx, vy = sunset_flow(rng, x, y, sun, horizon, r_sun, n1, column)
    canvas = np.stack([box_blur(reference[..., c], 6) for c in range(3)], axis=-1)
    relief = np.zeros((n, n))
    paint_sunset_strokes(rng, canvas, relief, reference, vx, vy)
    return to_image(light_relief(canvas, relief, strength=2.2, gloss=0.25))


def mosaic_pattern(x: float, y: float) -> np.ndarray:
    """The design that the tesserae of the mosaic are coloured from.

    A golden sun with pointed rays in the middle, framed by an ivory ring and
    a red band with an ivory wave, on a lapis-blue field with rippling
    concentric waves and a golden star in each corner, inside a frame of
    terracotta, ivory and alternating red and black squares.
    """
    gold = hex_colour("#e2b23c")
    amber = hex_colour("#d9822b")
    ivory = hex_colour("#efe4c8")
    lapis = hex_colour("#1d3f8c")
    deep = hex_colour("#142a5e")
    sky = hex_colour("#4f7fc4")
    red = hex_colour("#a3262a")
    terracotta = hex_colour("#b5562f")
    black = hex_colour("#2a2420")
    c = SIZE / 2
    dx, dy = x - c, y - c
    r = np.hypot(dx, dy)
    theta = np.arctan2(dy, dx)
    edge = min(x, y, SIZE - x, SIZE - y)

    if edge < 15:
        return terracotta
    if edge < 25:
        return ivory
    if edge < 47:  # a band of alternating squares inside the frame
        along = (x if min(y, SIZE - y) < 47 else y) // 22
        return black if along % 2 else red
    if edge < 55:
        return ivory
    # A golden four-pointed star in each corner of the blue field.
    corner = 100.0
    sx = min(abs(x - corner), abs(x - (SIZE - corner)))
    sy = min(abs(y - corner), abs(y - (SIZE - corner)))
    if np.sqrt(sx) + np.sqrt(sy) < 6.8:
        return amber if np.sqrt(sx) + np.sqrt(sy) < 3.0 else gold
    if r < 48:
        return amber if r < 22 else gold
    if r < 108:
        ray = (theta * 16 / (2 * np.pi)) % 1.0
        tip = 1.0 - abs(ray - 0.5) * 2.0  # 1 at the middle of a ray
        if (r - 48) / 60 < tip:
            return gold if int(np.floor(theta * 16 / (2 * np.pi))) % 2 else amber
        return deep
    if r < 122:
        return ivory
    if r < 150:
        wave = 135 + 8 * np.sin(theta * 18)
        return ivory if abs(r - wave) < 4 else red
    if r < 162:
        return ivory
    ripple = np.sin(r / 9.0 + 1.4 * np.sin(theta * 4))
    if ripple > 0.7:
        return sky
    return lapis if ripple > -0.6 else deep


def mosaic_seeds(rng: np.random.Generator) -> np.ndarray:
    """Tile centres laid out like tesserae ("andamento"), as an array of shape (k, 2).

    Inside the medallion (radius 168 px) the centres sit on concentric rings
    one tile spacing apart, each ring holding about circumference / spacing
    tiles at a random phase; outside it they sit in staggered, jittered rows.
    """
    n = SIZE
    spacing = 11.0
    seeds = []
    medallion = 168.0
    for k in range(int(medallion / spacing)):
        radius = spacing * (k + 0.5)
        count = max(round(2 * np.pi * radius / spacing), 1)
        angles = (np.arange(count) + rng.random()) * 2 * np.pi / count
        radii = radius + rng.normal(0, 0.8, count)
        angles = angles + rng.normal(0, 0.08, count) / max(k, 1)
        ring_x = n / 2 + radii * np.cos(angles)
        ring_y = n / 2 + radii * np.sin(angles)
        seeds += list(zip(ring_x, ring_y, strict=True))
    for gy in np.arange(spacing / 2, n, spacing):
        for gx in np.arange(spacing / 2, n, spacing):
            shift = spacing / 4 if int(gy / spacing) % 2 else 0.0  # stagger rows
            px = gx + shift + rng.normal(0, 1.3)
            py = gy + rng.normal(0, 1.3)
            if np.hypot(px - n / 2, py - n / 2) > medallion + spacing * 0.4:
                seeds.append((px, py))
    return np.array(seeds)


def draw_mosaic(seed: int = 2) -> Image.Image:
    """A Byzantine-style mosaic of small stone and glass tiles.

    Technique: tile centres are laid out like a mosaicist lays tesserae
    ("andamento"): in concentric rings around the medallion and in slightly
    jittered rows elsewhere. A Voronoi diagram of these centres gives the
    irregular tile shapes, and the distance to the cell border draws dark
    grout lines of even width. Each tile takes the design colour at its
    centre, jittered a little, and is shaded with a bevel and a random tilt
    so that the tiles catch the light differently, as real tesserae do.
    """
    rng = np.random.default_rng(seed)
    n = SIZE
    seeds = mosaic_seeds(rng)

    y, x = np.mgrid[0:n, 0:n].astype(float)
    label, border = voronoi(seeds, x, y)

    # One colour, brightness and tilt per tile.
    colours = np.array([mosaic_pattern(sx, sy) for sx, sy in seeds])
    colours = colours * rng.uniform(0.88, 1.1, (len(seeds), 1))
    colours = colours + rng.normal(0, 0.03, colours.shape)
    tilt = rng.normal(0, 0.012, (len(seeds), 2))
    tile = colours[label]
    from_centre_x = x - seeds[label, 0]
    from_centre_y = y - seeds[label, 1]
    lean = from_centre_x * tilt[label, 0] + from_centre_y * tilt[label, 1]
    bevel = 0.78 + 0.22 * smoothstep(border / 3.0)
    image = tile * (bevel + lean)[..., None]

    # Some tesserae are glass: give about one in eight a little sparkle.
    sparkle = rng.random(len(seeds)) < 0.12
    image += (sparkle[label] * 0.12 * smoothstep(border / 2.5))[..., None]

    # Grout: a dark, slightly uneven mortar between the tiles.
    grout_noise = value_noise(rng, n, 64)
    grout = hex_colour("#2b2622") * (0.8 + 0.4 * grout_noise)[..., None]
    in_grout = np.clip(1.6 - border, 0.0, 1.0)[..., None]
    image = image * (1 - in_grout) + grout * in_grout

    # Gentle overall light falloff, like a photograph of a wall.
    c = n / 2
    vignette = 1.0 - 0.18 * ((x - c) ** 2 + (y - c) ** 2) / (2 * c * c)
    return to_image(image * vignette[..., None])


Vortex = tuple[float, float, float, float, float]  # (x, y, strength, radius, glow)

SWIRL_PALETTES = {  # colours by region, cycled through band by band
    "sky": [
        "#0b1d51",
        "#1e3f96",
        "#2f62b8",
        "#5b8fd0",
        "#a9cde9",
        "#e4eee6",
        "#5b8fd0",
        "#2f62b8",
        "#1e3f96",
        "#2a7a9a",
    ],
    "warm": ["#fff3b0", "#f7d54a", "#e8a91c", "#f7d54a", "#fff3b0", "#cfe0a8"],
    "ground": ["#0d1b2e", "#1b3049", "#2b4f63", "#13263d", "#344a35", "#1b3049"],
    "cypress": ["#142018", "#2d4a2c", "#4a642f", "#1b2633", "#5e4d2c", "#2d4a2c"],
}


def swirl_vortices() -> list[Vortex]:
    """The night sky's vortices as (x, y, strength, radius, glow).

    The sign of strength sets the turning sense; a glow above zero makes the
    vortex a moon or a star with a warm halo and a bright core.
    """
    n = SIZE
    return [
        (0.36 * n, 0.34 * n, 70.0, 80.0, 0.0),  # two great swirls, turning
        (0.64 * n, 0.48 * n, -55.0, 62.0, 0.0),  # opposite ways (an "S")
        (0.82 * n, 0.16 * n, -34.0, 46.0, 1.0),  # the moon
        (0.14 * n, 0.10 * n, 18.0, 26.0, 0.8),  # stars
        (0.55 * n, 0.10 * n, -16.0, 24.0, 0.75),
        (0.90 * n, 0.58 * n, 16.0, 24.0, 0.75),
        (0.36 * n, 0.63 * n, -14.0, 22.0, 0.7),
    ]


def swirl_sky_flow(
    rng: np.random.Generator, x: np.ndarray, y: np.ndarray, vortices: list[Vortex]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sky's flow (vx, vy), colour band index and warm (moon and star) area.

    The stream function psi = wind + sum of strength * exp(-r^2 / radius^2)
    gives the incompressible flow (vx, vy) = (dpsi/dy, -dpsi/dx), which runs
    along the level lines of psi; bands of psi about 10 px wide pick the
    colours. The warm area is where a vortex's glow beats a noisy threshold.
    """
    psi = 0.3 * y + 6 * np.sin(x / 60.0)  # a wind blowing to the right
    glow = np.zeros((SIZE, SIZE))
    for cx, cy, strength, radius, shine in vortices:
        r2 = (x - cx) ** 2 + (y - cy) ** 2
        psi += strength * np.exp(-r2 / radius**2)
        glow = np.maximum(glow, shine * np.exp(-r2 / (1.15 * radius) ** 2))
    gy, gx = np.gradient(psi)
    vx, vy = gy, -gx  # the flow runs along the level lines of psi
    band = psi / 5.0  # colour band index: about 10 px wide bands
    warm = glow > 0.3 + 0.3 * value_noise(rng, SIZE, 16)
    return vx, vy, band, warm


def add_hills(
    x: np.ndarray, y: np.ndarray, vx: np.ndarray, vy: np.ndarray, band: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rolling hills: a calm, nearly horizontal flow below a wavy line.

    Returns the flow and bands with the hills in them, and the hills' mask.
    """
    hills = 0.76 * SIZE + 20 * np.sin(x / SIZE * 2 * np.pi * 0.9 + 0.8) + 8 * np.sin(x / 37.0)
    ground = y > hills
    vx = np.where(ground, 1.0, vx)
    vy = np.where(ground, 0.3 * np.sin(x / 40.0 + y / 25.0), vy)
    band = np.where(ground, y / 8.0 + 2.0 * np.sin(x / 50.0), band)
    return vx, vy, band, ground


def add_cypress(
    x: np.ndarray, y: np.ndarray, vx: np.ndarray, vy: np.ndarray, band: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A cypress: a tall dark flame on the left with a wavering upward flow.

    Its half-width grows from 4 px at the top to about 48 px at the bottom
    and its axis sways; returns the flow and bands with the tree in them,
    and the tree's mask.
    """
    rise = np.clip((y - 0.2 * SIZE) / (0.8 * SIZE), 0.0, 1.0)
    centre = 0.14 * SIZE + 10 * np.sin(y / 23.0) * rise
    half_width = (4 + 44 * rise**0.8) * (0.8 + 0.2 * np.sin(y / 11.0))
    cypress = (np.abs(x - centre) < half_width) & (y > 0.2 * SIZE)
    vx = np.where(cypress, 0.45 * np.sin(y / 13.0 + x / 9.0), vx)
    vy = np.where(cypress, -1.0, vy)
    band = np.where(cypress, (x - centre) / 6.0 + 1.5 * np.sin(y / 17.0), band)
    return vx, vy, band, cypress


def swirl_regions(warm: np.ndarray, ground: np.ndarray, cypress: np.ndarray) -> np.ndarray:
    """The name of the palette (a key of SWIRL_PALETTES) for every pixel; later masks win."""
    region = np.full((SIZE, SIZE), "sky", dtype=object)
    region[warm] = "warm"
    region[ground] = "ground"
    region[cypress] = "cypress"
    return region


def band_colourer(band: np.ndarray, region: np.ndarray) -> Callable[..., np.ndarray]:
    """A function (px, py, shift=0) -> colour of the streamline band that (px, py) lies on."""
    palettes_rgb = {k: np.array([hex_colour(c) for c in v]) for k, v in SWIRL_PALETTES.items()}

    def band_colour(px: float, py: float, shift: int = 0) -> np.ndarray:
        """The band colour at (px, py); `shift` picks a neighbouring band instead, to interleave colours."""
        palette = palettes_rgb[sample(region, px, py)]
        index = int(np.floor(sample(band, px, py))) + shift
        return palette[index % len(palette)]

    return band_colour


def swirl_underpainting(band_colour: Callable[..., np.ndarray]) -> np.ndarray:
    """The underpainting: the band colours in 4x4 pixel blocks, box-blurred smooth."""
    base = np.zeros((SIZE, SIZE, 3))
    for gy0 in range(0, SIZE, 4):
        for gx0 in range(0, SIZE, 4):
            base[gy0 : gy0 + 4, gx0 : gx0 + 4] = band_colour(gx0 + 2, gy0 + 2)
    return np.stack([box_blur(base[..., c], 3) for c in range(3)], axis=-1)


def paint_swirl_dashes(
    rng: np.random.Generator,
    canvas: np.ndarray,
    relief: np.ndarray,
    band_colour: Callable[..., np.ndarray],
    vx: np.ndarray,
    vy: np.ndarray,
) -> None:
    """Paint short, thick dashes along the streamlines in place, in three passes from wide to narrow.

    Each dash takes the band colour where it starts (now and then a
    neighbouring band's, to interleave colours), slightly varied.
    """
    passes = [  # (number of dashes, width range, length range)
        (1400, (9.0, 12.0), (22, 40)),
        (3400, (6.0, 8.0), (14, 26)),
        (2400, (4.0, 5.5), (10, 18)),
    ]
    for count, (w_lo, w_hi), (l_lo, l_hi) in passes:
        for start in rng.random((count, 2)) * SIZE:
            shift = int(rng.choice([-1, 0, 0, 0, 0, 1]))  # now and then a neighbour
            colour = band_colour(*start, shift) * rng.uniform(0.88, 1.12)
            colour = np.clip(colour + rng.normal(0, 0.025, 3), 0, 1)
            path = trace_streamline(vx, vy, start, rng.uniform(l_lo, l_hi), step=2.5)
            width = rng.uniform(w_lo, w_hi)
            paint_stroke(canvas, relief, path, width, colour, 0.92, rng, dry_brush=0.3)


def paint_star_cores(canvas: np.ndarray, x: np.ndarray, y: np.ndarray, vortices: list[Vortex]) -> np.ndarray:
    """The canvas with a bright, soft-edged core (0.3 of the vortex radius) on the moon and every star."""
    for cx, cy, _, radius, shine in vortices:
        if shine > 0:
            distance = np.hypot(x - cx, y - cy)
            core = 0.8 * smoothstep((radius * 0.3 - distance) / 3.0)[..., None]
            canvas = canvas * (1 - core) + hex_colour("#fff6c9") * core
    return canvas


def draw_swirls(seed: int = 3) -> Image.Image:
    """Van-Gogh-like swirling night sky with a cypress over dark hills.

    Technique: a stream function psi (the sum of a few Gaussian "bumps", one
    per vortex, plus a gentle wind) defines an incompressible flow whose
    streamlines are the level lines of psi. Colours come in bands of psi, so
    they follow the streamlines and ring the vortices rhythmically: cobalt,
    ultramarine and pale blue in the sky, yellow and white around the stars
    and the moon. Thousands of short, thick dashes are laid along the
    streamlines in several passes, each taking the band colour where it
    starts. The hills and a flame-like cypress get their own simple flows.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    vortices = swirl_vortices()
    vx, vy, band, warm = swirl_sky_flow(rng, x, y, vortices)
    vx, vy, band, ground = add_hills(x, y, vx, vy, band)
    vx, vy, band, cypress = add_cypress(x, y, vx, vy, band)
    band_colour = band_colourer(band, swirl_regions(warm, ground, cypress))

    canvas = swirl_underpainting(band_colour)
    relief = np.zeros((SIZE, SIZE))
    paint_swirl_dashes(rng, canvas, relief, band_colour, vx, vy)
    # The moon and stars: bright cores painted last.
    canvas = paint_star_cores(canvas, x, y, vortices)
    return to_image(light_relief(canvas, relief, strength=1.6, gloss=0.15))


ROSE_RINGS = [  # (outer radius, sectors, twist, colours by sector)
    (22, 1, 0.0, ["ruby"]),
    (50, 6, 0.0, ["gold", "amber"]),
    (112, 8, 0.0, ["ruby", "rose"]),
    (168, 16, 0.9, ["cobalt", "turquoise"]),
    (232, 16, 0.0, ["violet", "emerald"]),
    (250, 36, 0.0, ["ruby", "gold", "cobalt"]),
]

JEWELS = {
    "ruby": "#b3122e",
    "rose": "#d4405f",
    "cobalt": "#1c3fae",
    "turquoise": "#168f9e",
    "emerald": "#138a4a",
    "violet": "#6a2c91",
    "amber": "#ef9a1a",
    "gold": "#f5cc45",
    "pale_blue": "#9fc4dc",
    "pale_amber": "#e6cf8f",
    "pale_green": "#a9cfa4",
}


def rose_rings(r: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut the rose into the rings of ROSE_RINGS and their sectors.

    From the (warped) polar coordinates r and theta, returns every pixel's
    piece id (100 * ring + sector), jewel colour name and distance to the
    nearest cut: a ring's edge, or a radial cut, whose distance is the
    angular gap times r. Twisting the angle with the radius bends the radial
    cuts into curved blades.
    """
    piece = np.zeros((SIZE, SIZE), dtype=np.int64)
    colour_name = np.full((SIZE, SIZE), "cobalt", dtype=object)
    lead_distance = np.full((SIZE, SIZE), np.inf)
    inner = 0.0
    for index, (outer, sectors, twist, names) in enumerate(ROSE_RINGS):
        in_ring = (r >= inner) & (r < outer)
        lead_distance = np.minimum(lead_distance, np.abs(r - outer))
        turn = theta + twist * (r - inner) / (outer - inner) + np.pi / sectors
        s = turn * sectors / (2 * np.pi)
        sector = np.floor(s).astype(np.int64) % sectors
        if sectors > 1:
            cut = np.abs(s - np.round(s)) * 2 * np.pi / sectors * r
            lead_distance = np.where(in_ring, np.minimum(lead_distance, cut), lead_distance)
        piece = np.where(in_ring, index * 100 + sector, piece)
        names_here = np.array(names, dtype=object)[sector % len(names)]
        colour_name = np.where(in_ring, names_here, colour_name)
        inner = outer
    return piece, colour_name, lead_distance


def add_roundels(
    wx: np.ndarray,
    wy: np.ndarray,
    theta: np.ndarray,
    piece: np.ndarray,
    colour_name: np.ndarray,
    lead_distance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Set a round gold "roundel" (radius 21 px) in the middle of every sector of the fifth ring.

    Returns the updated piece ids, colour names and lead distances.
    """
    c = SIZE / 2
    sectors, mid, roundel = 16, (168 + 232) / 2, 21.0
    k = np.round(theta * sectors / (2 * np.pi))
    angle = k * 2 * np.pi / sectors
    to_centre = np.hypot(wx - c - mid * np.cos(angle), wy - c - mid * np.sin(angle))
    lead_distance = np.minimum(lead_distance, np.abs(to_centre - roundel))
    inside_roundel = to_centre < roundel
    piece = np.where(inside_roundel, 1000 + k.astype(np.int64) % sectors, piece)
    colour_name = np.where(inside_roundel, "gold", colour_name)
    return piece, colour_name, lead_distance


def add_quarries(
    x: np.ndarray,
    y: np.ndarray,
    r: np.ndarray,
    piece: np.ndarray,
    colour_name: np.ndarray,
    lead_distance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill the corners around the rose with diamond "quarries" of pale glass.

    The diamonds are the cells of a 45-degree grid in u = (x + y - n) / 46
    and v = (x - y) / 46; the distance to a grid line is the gap in u or v
    times 46 / sqrt(2). Returns the updated piece ids, colour names and lead distances.
    """
    outside = r >= ROSE_RINGS[-1][0]
    size = 46.0
    u = (x + y - SIZE) / size
    v = (x - y) / size
    nearest_line = np.minimum(np.abs(u - np.round(u)), np.abs(v - np.round(v)))
    quarry = nearest_line * size / np.sqrt(2)
    lead_distance = np.where(outside, np.minimum(lead_distance, quarry), lead_distance)
    quarry_id = 10_000 + (np.floor(u) * 100 + np.floor(v)).astype(np.int64)
    piece = np.where(outside, quarry_id, piece)
    pale = np.array(["pale_blue", "pale_amber", "pale_green", "pale_blue"], dtype=object)
    quarry_colour = pale[(np.floor(u) + 2 * np.floor(v)).astype(np.int64) % len(pale)]
    colour_name = np.where(outside, quarry_colour, colour_name)
    return piece, colour_name, lead_distance


def glass_colours(
    rng: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    piece: np.ndarray,
    colour_name: np.ndarray,
    lead_distance: np.ndarray,
) -> np.ndarray:
    """The glass: jewel colours with a tint per piece, mottled and streaky, darker near the lead.

    Daylight falls off a little from the upper left to the lower right.
    """
    n = SIZE
    palette = {name: hex_colour(code) for name, code in JEWELS.items()}
    glass = np.zeros((n, n, 3))
    for name, rgb in palette.items():
        glass[colour_name == name] = rgb
    ids, inverse = np.unique(piece, return_inverse=True)
    tint = rng.uniform(0.85, 1.12, len(ids))[inverse.reshape(n, n)]
    glass = glass * tint[..., None]
    mottle = value_noise(rng, n, 48, octaves=3)
    streaks = value_noise(rng, n, 10, octaves=2)
    glass = glass * (0.8 + 0.32 * mottle + 0.1 * np.sin(streaks * 30.0))[..., None]
    glass = glass * (0.72 + 0.28 * smoothstep(lead_distance / 12.0))[..., None]
    daylight = 1.1 - 0.25 * (x + y) / (2 * n)
    return glass * daylight[..., None]


def lead_over(glass: np.ndarray, lead_distance: np.ndarray) -> np.ndarray:
    """Lay black lead (half-width 3.2 px, antialiased) over the glass, with a faint sheen along its ridge."""
    half_width = 3.2
    lead_amount = np.clip(half_width + 0.5 - lead_distance, 0.0, 1.0)[..., None]
    ridge = np.clip(1.0 - lead_distance / half_width, 0.0, 1.0)
    lead = hex_colour("#161514") + 0.12 * ridge[..., None] ** 2
    return glass * (1 - lead_amount) + lead * lead_amount


def draw_stained_glass(seed: int = 4) -> Image.Image:
    """A rose window of coloured glass held together by thick black lead.

    Technique: the window is cut into pieces with polar coordinates: rings
    (by radius) split into sectors (by angle), some sectors twisted into
    curved blades, the outer ring holding small round roundels; the corners
    outside the rose are diamond "quarries". For every pixel we compute
    which piece it belongs to and how far it is from the nearest cut; lead
    is drawn where that distance is small. The coordinates are warped a
    little so the cuts wobble like hand-made glass. Each piece gets a jewel
    colour, then a mottled, streaky glass texture that darkens towards the
    lead.
    """
    rng = np.random.default_rng(seed)
    n = SIZE
    c = n / 2
    y, x = np.mgrid[0:n, 0:n].astype(float)
    wobble = 5.0
    wx = x + wobble * (value_noise(rng, n, 8) - 0.5)
    wy = y + wobble * (value_noise(rng, n, 8) - 0.5)
    r = np.hypot(wx - c, wy - c)
    theta = np.arctan2(wy - c, wx - c)

    piece, colour_name, lead_distance = rose_rings(r, theta)
    piece, colour_name, lead_distance = add_roundels(wx, wy, theta, piece, colour_name, lead_distance)
    piece, colour_name, lead_distance = add_quarries(x, y, r, piece, colour_name, lead_distance)
    glass = glass_colours(rng, x, y, piece, colour_name, lead_distance)
    return to_image(lead_over(glass, lead_distance))


# --------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------


def save(image: Image.Image, path: Path) -> None:
    """Save as PNG or, for a .jpg name, as a high-quality JPEG.

    The painterly images are full of fine texture, which PNG compresses
    badly (over 400 kB each), so they are stored as JPEG at quality 95 with
    full-resolution colour (no chroma subsampling).
    """
    if path.suffix == ".jpg":
        image.save(path, quality=95, subsampling=0)
    else:
        image.save(path, optimize=True)
    if path.stat().st_size > MAX_BYTES:
        print(f"warning: {path.name} is larger than {MAX_BYTES} bytes")


def main() -> None:
    """Draw every style image into the folder that holds this script."""
    folder = Path(__file__).parent
    drawings = {
        "brushstrokes.jpg": draw_brushstrokes,
        "mosaic.jpg": draw_mosaic,
        "swirls.jpg": draw_swirls,
        "stained_glass.png": draw_stained_glass,
    }
    for name, draw in drawings.items():
        started = time.perf_counter()
        image = draw()
        seconds = time.perf_counter() - started
        save(image, folder / name)
        size_kb = (folder / name).stat().st_size / 1000
        print(f"{name:18s} {image.size[0]}x{image.size[1]}  {size_kb:4.0f} kB  {seconds:4.1f} s")


if __name__ == "__main__":
    main()
