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

    For every pixel of the stroke's bounding box we find the nearest point on
    the polyline, which gives two stroke coordinates: `along` (0 at the start,
    1 at the end) and `across` (-1 on one edge, +1 on the other). A random 1-D
    "bristle" profile indexed by `across` streaks the colour and the opacity
    like the hairs of a real brush; towards the end of the stroke the paint
    runs out and the streaks break up (dry brush). The stroke is
    alpha-blended into `canvas` and its paint thickness into `relief`, a
    height map that is later lit to make the strokes look raised.
    """
    h, w = relief.shape
    half = width / 2.0
    x0 = max(int(path[:, 0].min() - half - 2), 0)
    x1 = min(int(path[:, 0].max() + half + 3), w)
    y0 = max(int(path[:, 1].min() - half - 2), 0)
    y1 = min(int(path[:, 1].max() + half + 3), h)
    if x0 >= x1 or y0 >= y1 or len(path) < 2:
        return
    py, px = np.mgrid[y0:y1, x0:x1].astype(float)

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

    # Stroke coordinates.
    seg_len = np.sqrt(seg_len2)
    start_of = np.concatenate([[0.0], np.cumsum(seg_len)])
    along = (start_of[nearest] + t * seg_len[nearest]) / start_of[-1]
    across = np.clip(np.sign(cross) * dist / half, -1.0, 1.0)

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

    # Reference colours.
    navy = hex_colour("#0c1a4a")
    ultramarine = hex_colour("#1f3f9a")
    teal = hex_colour("#16697a")
    violet = hex_colour("#5a3d8c")
    plum = hex_colour("#3b1f4a")
    ochre = hex_colour("#c8922e")
    orange = hex_colour("#ec7a1c")
    red = hex_colour("#b8401e")
    cream = hex_colour("#fbe9b7")
    yellow = hex_colour("#f6c453")
    n1 = value_noise(rng, n, 3, octaves=3)
    n2 = value_noise(rng, n, 5, octaves=2)
    n3 = value_noise(rng, n, 4, octaves=3)
    r_sun = np.hypot(x - sun[0], y - sun[1])

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
    sky = sky + (cream - sky) * (r_sun < 34)[..., None]

    depth = smoothstep((y - horizon) / (n - horizon.min()) * 1.4 + (n2 - 0.5) * 0.5)
    water = teal * (1 - depth[..., None]) + navy * depth[..., None]
    water = water + (ultramarine - water) * smoothstep((n1 - 0.45) * 4)[..., None] * 0.7
    # The sun's reflection: a wobbly warm column on the water.
    wobble = 18 * np.sin(y / 9.0) * (n2 - 0.3)
    spread = 28 + 0.25 * np.clip(y - horizon, 0, None)  # wider towards us
    column = np.exp(-(((x + wobble - sun[0]) / spread) ** 2))
    ripples = 0.5 + 0.5 * np.sin(y / 3.5 + 6 * n1)
    water = water + (orange - water) * (column * ripples)[..., None] * 0.9
    is_sky = (y < horizon)[..., None]
    reference = np.where(is_sky, sky, water)
    # A dark distant coast line on the left.
    coast = (y > horizon - 26 - 30 * n2 + 0.06 * x) & (y < horizon) & (x < 0.45 * n)
    reference[coast] = navy * 0.7 + plum * 0.3

    # Flow field: swirl around the sun + undulating sky + flat water.
    ang_noise = (value_noise(rng, n, 4, octaves=2) - 0.5) * 2.4
    swirl = np.exp(-((r_sun / 75.0) ** 2))
    tx, ty = -(y - sun[1]) / (r_sun + 1), (x - sun[0]) / (r_sun + 1)
    sky_angle = 0.4 * np.sin(x / 70.0 + 3 * n1) + 0.7 * ang_noise
    vx_sky = np.cos(sky_angle) * (1 - swirl) + tx * swirl * 1.3
    vy_sky = np.sin(sky_angle) * (1 - swirl) + ty * swirl * 1.3
    water_angle = 0.22 * ang_noise
    vx = np.where(y < horizon, vx_sky, np.cos(water_angle))
    vy = np.where(y < horizon, vy_sky, np.sin(water_angle))
    # Near the reflection the strokes turn vertical-ish, like broken light.
    vy = vy + (y >= horizon) * column * 0.35 * np.sin(x / 5.0)

    canvas = np.stack([box_blur(reference[..., c], 6) for c in range(3)], axis=-1)
    relief = np.zeros((n, n))

    passes = [  # (number of strokes, width range, length range, opacity)
        (900, (16, 24), (30, 60), 0.85),
        (2600, (9, 14), (18, 40), 0.8),
        (2600, (4, 7), (10, 24), 0.75),
    ]
    for count, (w_lo, w_hi), (l_lo, l_hi), opacity in passes:
        starts = rng.random((count, 2)) * n
        for start in starts:
            colour = sample(reference, *start)
            colour = colour * rng.uniform(0.86, 1.14) + rng.normal(0, 0.035, 3)
            path = trace_streamline(vx, vy, start, rng.uniform(l_lo, l_hi))
            width = rng.uniform(w_lo, w_hi)
            colour = np.clip(colour, 0, 1)
            paint_stroke(canvas, relief, path, width, colour, opacity, rng)

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
    seeds = np.array(seeds)

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
    n = SIZE
    y, x = np.mgrid[0:n, 0:n].astype(float)

    # (x, y, strength, radius, glow): the sign of strength sets the turning sense.
    vortices = [
        (0.36 * n, 0.34 * n, 70.0, 80.0, 0.0),  # two great swirls, turning
        (0.64 * n, 0.48 * n, -55.0, 62.0, 0.0),  # opposite ways (an "S")
        (0.82 * n, 0.16 * n, -34.0, 46.0, 1.0),  # the moon
        (0.14 * n, 0.10 * n, 18.0, 26.0, 0.8),  # stars
        (0.55 * n, 0.10 * n, -16.0, 24.0, 0.75),
        (0.90 * n, 0.58 * n, 16.0, 24.0, 0.75),
        (0.36 * n, 0.63 * n, -14.0, 22.0, 0.7),
    ]
    psi = 0.3 * y + 6 * np.sin(x / 60.0)  # a wind blowing to the right
    glow = np.zeros((n, n))
    for cx, cy, strength, radius, shine in vortices:
        r2 = (x - cx) ** 2 + (y - cy) ** 2
        psi += strength * np.exp(-r2 / radius**2)
        glow = np.maximum(glow, shine * np.exp(-r2 / (1.15 * radius) ** 2))
    gy, gx = np.gradient(psi)
    vx, vy = gy, -gx  # the flow runs along the level lines of psi
    band = psi / 5.0  # colour band index: about 10 px wide bands
    warm = glow > 0.3 + 0.3 * value_noise(rng, n, 16)

    # Rolling hills: a calm horizontal flow below a wavy line.
    hills = 0.76 * n + 20 * np.sin(x / n * 2 * np.pi * 0.9 + 0.8) + 8 * np.sin(x / 37.0)
    ground = y > hills
    vx = np.where(ground, 1.0, vx)
    vy = np.where(ground, 0.3 * np.sin(x / 40.0 + y / 25.0), vy)
    band = np.where(ground, y / 8.0 + 2.0 * np.sin(x / 50.0), band)

    # A cypress: a tall dark flame on the left with an upward flow.
    rise = np.clip((y - 0.2 * n) / (0.8 * n), 0.0, 1.0)
    centre = 0.14 * n + 10 * np.sin(y / 23.0) * rise
    half_width = (4 + 44 * rise**0.8) * (0.8 + 0.2 * np.sin(y / 11.0))
    cypress = (np.abs(x - centre) < half_width) & (y > 0.2 * n)
    vx = np.where(cypress, 0.45 * np.sin(y / 13.0 + x / 9.0), vx)
    vy = np.where(cypress, -1.0, vy)
    band = np.where(cypress, (x - centre) / 6.0 + 1.5 * np.sin(y / 17.0), band)

    palettes = {
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
    palettes_rgb = {k: np.array([hex_colour(c) for c in v]) for k, v in palettes.items()}
    region = np.full((n, n), "sky", dtype=object)
    region[warm] = "warm"
    region[ground] = "ground"
    region[cypress] = "cypress"

    def band_colour(px: float, py: float, shift: int = 0) -> np.ndarray:
        """The colour of the streamline band that (px, py) lies on.

        `shift` picks a neighbouring band instead, to interleave colours.
        """
        palette = palettes_rgb[sample(region, px, py)]
        index = int(np.floor(sample(band, px, py))) + shift
        return palette[index % len(palette)]

    # Underpainting: the band colours, smoothly blurred.
    base = np.zeros((n, n, 3))
    for gy0 in range(0, n, 4):
        for gx0 in range(0, n, 4):
            base[gy0 : gy0 + 4, gx0 : gx0 + 4] = band_colour(gx0 + 2, gy0 + 2)
    canvas = np.stack([box_blur(base[..., c], 3) for c in range(3)], axis=-1)
    relief = np.zeros((n, n))

    passes = [  # (number of dashes, width range, length range)
        (1400, (9.0, 12.0), (22, 40)),
        (3400, (6.0, 8.0), (14, 26)),
        (2400, (4.0, 5.5), (10, 18)),
    ]
    for count, (w_lo, w_hi), (l_lo, l_hi) in passes:
        for start in rng.random((count, 2)) * n:
            shift = int(rng.choice([-1, 0, 0, 0, 0, 1]))  # now and then a neighbour
            colour = band_colour(*start, shift) * rng.uniform(0.88, 1.12)
            colour = np.clip(colour + rng.normal(0, 0.025, 3), 0, 1)
            path = trace_streamline(vx, vy, start, rng.uniform(l_lo, l_hi), step=2.5)
            width = rng.uniform(w_lo, w_hi)
            paint_stroke(canvas, relief, path, width, colour, 0.92, rng, dry_brush=0.3)

    # The moon and stars: bright cores painted last.
    for cx, cy, _, radius, shine in vortices:
        if shine > 0:
            distance = np.hypot(x - cx, y - cy)
            core = 0.8 * smoothstep((radius * 0.3 - distance) / 3.0)[..., None]
            canvas = canvas * (1 - core) + hex_colour("#fff6c9") * core
    return to_image(light_relief(canvas, relief, strength=1.6, gloss=0.15))


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

    # Rings: (outer radius, sectors, twist, colours by sector).
    rings = [
        (22, 1, 0.0, ["ruby"]),
        (50, 6, 0.0, ["gold", "amber"]),
        (112, 8, 0.0, ["ruby", "rose"]),
        (168, 16, 0.9, ["cobalt", "turquoise"]),
        (232, 16, 0.0, ["violet", "emerald"]),
        (250, 36, 0.0, ["ruby", "gold", "cobalt"]),
    ]
    piece = np.zeros((n, n), dtype=np.int64)
    colour_name = np.full((n, n), "cobalt", dtype=object)
    lead_distance = np.full((n, n), np.inf)
    inner = 0.0
    for index, (outer, sectors, twist, names) in enumerate(rings):
        in_ring = (r >= inner) & (r < outer)
        lead_distance = np.minimum(lead_distance, np.abs(r - outer))
        # Twisting the angle with the radius bends the radial cuts.
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

    # A round "roundel" in the middle of every sector of the fifth ring.
    sectors, mid, roundel = 16, (168 + 232) / 2, 21.0
    k = np.round(theta * sectors / (2 * np.pi))
    angle = k * 2 * np.pi / sectors
    to_centre = np.hypot(wx - c - mid * np.cos(angle), wy - c - mid * np.sin(angle))
    lead_distance = np.minimum(lead_distance, np.abs(to_centre - roundel))
    inside_roundel = to_centre < roundel
    piece = np.where(inside_roundel, 1000 + k.astype(np.int64) % sectors, piece)
    colour_name = np.where(inside_roundel, "gold", colour_name)

    # Diamond quarries in pale glass fill the corners around the rose.
    outside = r >= rings[-1][0]
    size = 46.0
    u = (x + y - n) / size
    v = (x - y) / size
    nearest_line = np.minimum(np.abs(u - np.round(u)), np.abs(v - np.round(v)))
    quarry = nearest_line * size / np.sqrt(2)
    lead_distance = np.where(outside, np.minimum(lead_distance, quarry), lead_distance)
    quarry_id = 10_000 + (np.floor(u) * 100 + np.floor(v)).astype(np.int64)
    piece = np.where(outside, quarry_id, piece)
    pale = np.array(["pale_blue", "pale_amber", "pale_green", "pale_blue"], dtype=object)
    quarry_colour = pale[(np.floor(u) + 2 * np.floor(v)).astype(np.int64) % len(pale)]
    colour_name = np.where(outside, quarry_colour, colour_name)

    jewels = {
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
    palette = {name: hex_colour(code) for name, code in jewels.items()}
    glass = np.zeros((n, n, 3))
    for name, rgb in palette.items():
        glass[colour_name == name] = rgb

    # Every piece gets its own slightly different tint.
    ids, inverse = np.unique(piece, return_inverse=True)
    tint = rng.uniform(0.85, 1.12, len(ids))[inverse.reshape(n, n)]
    glass = glass * tint[..., None]
    mottle = value_noise(rng, n, 48, octaves=3)
    streaks = value_noise(rng, n, 10, octaves=2)
    glass = glass * (0.8 + 0.32 * mottle + 0.1 * np.sin(streaks * 30.0))[..., None]
    glass = glass * (0.72 + 0.28 * smoothstep(lead_distance / 12.0))[..., None]
    daylight = 1.1 - 0.25 * (x + y) / (2 * n)
    glass = glass * daylight[..., None]

    half_width = 3.2
    lead_amount = np.clip(half_width + 0.5 - lead_distance, 0.0, 1.0)[..., None]
    ridge = np.clip(1.0 - lead_distance / half_width, 0.0, 1.0)
    lead = hex_colour("#161514") + 0.12 * ridge[..., None] ** 2
    return to_image(glass * (1 - lead_amount) + lead * lead_amount)


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
