"""The notebook experiments, driven like a learner drives them: set the controls, press Run, read what they show.

Runs under ipywidgets 8 (installed) and 7 (CI puts 7.7 first on PYTHONPATH for a second run of this file).
"""

import io
import signal
import struct
import threading
import zlib
from datetime import datetime, timezone

import ipywidgets
import numpy as np
import pytest
import torch
from IPython.core.formatters import DisplayFormatter
from PIL import Image

from nst_helpers import experiment, widgets
from nst_helpers.errors import DownloadError
from nst_helpers.images import load_image
from nst_helpers.optimize import Result
from nst_helpers.robust import MIN_WORKING_SIZE
from nst_helpers.settings import StyleSettings

IPYWIDGETS_MAJOR = int(ipywidgets.__version__.split(".")[0])


def picture(height: int, width: int, seed: int) -> torch.Tensor:
    noise = torch.rand(1, 3, max(2, height // 8), max(2, width // 8), generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(noise, size=(height, width), mode="bilinear", align_corners=False)


CONTENT, STYLE = picture(36, 48, 0), picture(40, 40, 1)


def png_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(bytes(data)))
    assert image.format == "PNG"
    return image


def png_of(tensor: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    tensor_to_save = (tensor[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(tensor_to_save).save(buffer, format="PNG")
    return buffer.getvalue()


def test_ipywidgets_version_under_test(capsys):
    with capsys.disabled():
        print(f"\nipywidgets {ipywidgets.__version__}")
    assert IPYWIDGETS_MAJOR in (7, 8)


def test_loss_lab_passes_the_slider_values_to_the_optimizer():
    lab = widgets.loss_lab(CONTENT, STYLE, size=40, steps=2)
    first_image, first_plot = bytes(lab.image_widget.value), bytes(lab.loss_widget.value)
    assert png_image(first_image).size == (40, 30)  # the content, until the first run

    low_ratio, high_ratio = 10.0 ** (lab.ratio_slider.min + 1), 10.0 ** (lab.ratio_slider.max - 1)
    lab.ratio_slider.value = low_ratio  # more style
    lab.tv_slider.value = tv_weight = 10.0 ** (lab.tv_slider.max - 1)
    lab.steps_slider.value = 3
    lab.init_buttons.value = "noise"
    lab.optimizer_buttons.value = "adam"
    lab.run_button.click()

    settings = lab.last_settings
    assert isinstance(settings, StyleSettings) and settings is lab.last_result.settings
    assert settings.style_weight == pytest.approx(1 / low_ratio) and settings.content_weight == 1.0
    assert settings.tv_weight == pytest.approx(tv_weight)
    assert settings.steps == 3 and settings.init == "noise" and settings.optimizer == "adam"
    assert settings.size == 40 and settings.weights == "original"
    # One scale: 40 px results are optimized at the minimum working size, over the pixels.
    schedule = [(scale["size"], scale["steps"], scale["pyramid_levels"]) for scale in lab.last_result.schedule]
    assert schedule == [(MIN_WORKING_SIZE, 3, 1)]
    assert lab.last_result.steps_done == 3 and lab.progress.value == lab.progress.max == 3
    assert lab.status_text.startswith("Done: 3 steps") and lab.runs == 1
    shown = bytes(lab.image_widget.value)
    assert shown != first_image and shown == png_of(lab.last_result.image)
    assert bytes(lab.loss_widget.value) != first_plot
    assert not lab.run_button.disabled

    lab.ratio_slider.value = high_ratio
    lab.optimizer_buttons.value = "lbfgs"
    lab.run_button.click()
    assert lab.runs == 2
    assert lab.last_settings.style_weight == pytest.approx(1 / high_ratio)
    assert lab.last_settings.optimizer == "lbfgs" and lab.last_settings is not settings
    assert bytes(lab.image_widget.value) != shown


def test_the_image_and_loss_plot_update_during_the_run(monkeypatch):
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=3)
    seen = []
    show = lab._show_progress

    def watch(step, image, losses):
        show(step, image, losses)
        seen.append((step, lab.progress.value, bytes(lab.image_widget.value), bytes(lab.loss_widget.value)))

    monkeypatch.setattr(lab, "_show_progress", watch)
    lab.run_button.click()
    assert [s[0] for s in seen] == [1, 2, 3] and [s[1] for s in seen] == [1, 2, 3]
    assert len({s[2] for s in seen}) == 3 and len({s[3] for s in seen}) == 3  # a new image and plot each time


def test_a_second_click_during_a_run_does_not_start_a_second_run(monkeypatch):
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=3)
    calls, statuses = [], []
    stylize = widgets.stylize
    monkeypatch.setattr(widgets, "stylize", lambda *a, **k: calls.append(k) or stylize(*a, **k))
    show = lab._show_progress

    def click_again(step, image, losses):
        show(step, image, losses)
        if step == 1:
            assert lab.run_button.disabled
            lab.run_button.click()
            statuses.append(lab.status_text)
            assert lab.run() is None
            statuses.append(lab.status_text)

    monkeypatch.setattr(lab, "_show_progress", click_again)
    lab.run_button.click()
    assert len(calls) == 1 and lab.runs == 1
    assert "click made during the run was ignored" in statuses[0] and statuses[1].startswith("Already running")
    assert lab.status_text.startswith("Done") and not lab.run_button.disabled


def test_a_click_queued_in_the_kernel_during_a_run_is_ignored(monkeypatch):
    """The browser stamps each click; one sent while the last run was going waits in the kernel's queue."""
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=2)
    sent = iter([1000.0, 1000.2, 1000.0 + 3600.0])
    monkeypatch.setattr(experiment, "sent_at", lambda: next(sent))
    lab.run_button.click()  # sent at 1000.0, runs for a while
    lab.run_button.click()  # sent 0.2 s later, during the run, handled after it: ignored
    assert lab.runs == 1 and "ignored" in lab.status_text
    lab.run_button.click()  # sent an hour later
    assert lab.runs == 2 and lab.status_text.startswith("Done")


def test_the_notebooks_stop_button_keeps_the_best_image(monkeypatch):
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=4)
    show = lab._show_progress

    def stop_at_two(step, image, losses):
        show(step, image, losses)
        if step == 2:
            raise KeyboardInterrupt  # what the notebook's stop button raises in the kernel

    monkeypatch.setattr(lab, "_show_progress", stop_at_two)
    lab.run_button.click()
    result = lab.last_result
    assert result.interrupted and result.steps_done == 2
    assert lab.status_text == f"Stopped after 2 of 4 steps: kept the best image, loss {result.final_loss:.4g}."
    assert bytes(lab.image_widget.value) == png_of(result.image)
    assert not lab._running and not lab.run_button.disabled and lab.stop_button.disabled
    assert lab.output.outputs == ()  # the status line says it all: no second, different count below


def test_the_experiments_own_stop_button_ends_the_run_at_the_next_update(monkeypatch):
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=6)
    assert lab.stop_button.disabled  # nothing to stop yet
    lab.stop_button.click()
    assert lab.status_text.startswith("Choose the settings")
    show, states = lab._show_progress, []

    def press_stop(step, image, losses):
        show(step, image, losses)
        states.append((lab.run_button.disabled, lab.stop_button.disabled))
        if step == 2:
            lab.stop_button.click()

    monkeypatch.setattr(lab, "_show_progress", press_stop)
    lab.run_button.click()
    assert states[0] == (True, False)  # while running: Run off, Stop on
    result = lab.last_result
    assert result.interrupted and result.steps_done == 3  # the step after the click ran, then the next update stopped
    assert lab.status_text.startswith("Stopped after 3 of 6 steps: kept the best image, loss ")
    assert not lab._stop_requested and lab.stop_button.disabled and not lab.run_button.disabled
    monkeypatch.undo()
    lab.run_button.click()  # the next run is not stopped by the old click
    assert lab.last_result.steps_done == 6 and lab.status_text.startswith("Done: 6 steps")


def test_a_stop_before_the_first_step_says_so_without_nan(monkeypatch):
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=4)
    monkeypatch.setattr(widgets, "stylize", lambda *a, **k: Result(image=CONTENT, history={}, frames=[], seconds=0.1,
                                                                    interrupted=True, steps_done=0))
    lab.run_button.click()
    assert lab.status_text == "Stopped before the first step finished: showing the starting image."
    monkeypatch.setattr(widgets, "stylize", lambda *a, **k: Result(image=CONTENT, history={"total": [float("nan")]},
                                                                    frames=[], seconds=0.1, interrupted=True,
                                                                    steps_done=1))
    lab.run_button.click()
    assert lab.status_text == "Stopped after 1 of 4 steps: kept the best image." and "nan" not in lab.status_text


def test_an_unexpected_error_is_one_status_line_with_details_below(monkeypatch):
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=2)

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(widgets, "stylize", broken)
    assert lab.run() is None  # never raises: a button's callback has nowhere to show a traceback but the output
    assert lab.status_text == "Unexpected RuntimeError: out of memory (details below)"
    assert not lab._running and not lab.run_button.disabled and lab.last_result is None
    assert "Traceback" in lab.output.outputs[0]["text"] and len(lab.output.outputs) == 1
    monkeypatch.undo()
    lab.run_button.click()  # the next run clears the old message
    assert lab.runs == 2 and lab.status_text.startswith("Done") and lab.output.outputs == ()


def test_call_interruptibly_moves_a_call_from_another_thread_to_the_main_thread(monkeypatch):
    """JupyterLab 4.6 delivers widget events on a kernel subshell thread, where the stop button cannot interrupt."""
    scheduled = []

    class FakeKernel:
        class io_loop:  # mimics the attribute of ipykernel's kernel
            add_callback = staticmethod(scheduled.append)

    class FakeShell:
        kernel = FakeKernel()

    monkeypatch.setattr(experiment, "get_ipython", lambda: FakeShell())
    handlers = []

    def record():
        handlers.append((threading.current_thread() is threading.main_thread(), signal.getsignal(signal.SIGINT)))

    widgets.call_interruptibly(record)  # on the main thread: called at once
    thread = threading.Thread(target=widgets.call_interruptibly, args=(record,))
    thread.start()
    thread.join()
    assert len(handlers) == 1 and len(scheduled) == 1  # from the other thread: only scheduled
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # what ipykernel sets while idle
    try:
        scheduled[0]()  # what the kernel's main loop does next
        assert handlers[1] == (True, signal.default_int_handler)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_style_layer_explorer_synthesizes_with_the_chosen_layers_and_weights():
    explorer = widgets.style_layer_explorer(STYLE, size=32, steps=2)
    style_only = png_image(explorer.gram_widget.value)  # no texture yet: one heatmap
    assert explorer.image_widget.layout.display == "none" and explorer.loss_widget.layout.display == "none"
    explorer.layer_checkboxes["relu5_1"].value = False
    explorer.weight_sliders["relu1_1"].value = 3.0
    explorer.weight_sliders["relu2_1"].value = 0.0  # weight 0 leaves a layer out too
    explorer.steps_slider.value = 3
    explorer.run_button.click()
    settings = explorer.last_settings
    assert isinstance(settings, StyleSettings) and settings is explorer.last_result.settings
    assert dict(settings.style_layers) == pytest.approx({"relu1_1": 3.0, "relu3_1": 1.0, "relu4_1": 1.0})
    assert settings.init == "faint_noise" and settings.content_weight == 0.0 and settings.size == 32
    assert settings.steps == 3 and explorer.last_result.steps_done == 3
    assert [s["steps"] for s in explorer.last_result.schedule] == [3]
    assert png_image(explorer.image_widget.value).size == (32, 32)
    assert explorer.image_widget.layout.display is None and explorer.loss_widget.layout.display is None
    assert png_image(explorer.gram_widget.value).width > 1.5 * style_only.width  # style and texture, side by side
    before = bytes(explorer.gram_widget.value)
    explorer.gram_dropdown.value = "relu1_1"
    assert bytes(explorer.gram_widget.value) != before


def test_style_layer_explorer_with_no_layer_says_so_in_one_line_and_the_next_run_clears_it():
    explorer = widgets.style_layer_explorer(STYLE, size=32, steps=2)
    for checkbox in explorer.layer_checkboxes.values():
        checkbox.value = False
    message = "No style layer is ticked with a weight above 0: tick at least one, then press Run."
    assert explorer.run() is None and explorer.status_text == message
    assert explorer.output.outputs == () and explorer.estimate.value == ""  # no traceback, no estimate
    assert explorer.last_result is None and not explorer.run_button.disabled
    explorer.layer_checkboxes["relu2_1"].value = True
    explorer.weight_sliders["relu2_1"].value = 0.0  # ticked, but weight 0: still no layer
    explorer.run_button.click()
    assert explorer.status_text == message and explorer.runs == 2
    explorer.layer_checkboxes["relu1_1"].value = True
    assert explorer.estimate.value != ""
    explorer.run_button.click()
    assert explorer.status_text.startswith("Done: 2 steps") and explorer.output.outputs == ()


def test_feature_map_explorer_shows_the_chosen_layer_channel_and_page():
    explorer = widgets.feature_map_explorer({"a": picture(48, 48, 2), "b": picture(40, 48, 3)}, size=48)
    figures = {bytes(explorer.figure_widget.value)}
    assert explorer.status_text.startswith("relu1_1: 64 channels of 48×48")
    explorer.layer_dropdown.value = "relu3_1"
    assert explorer.channel_slider.max == 255 and explorer.status_text.startswith("relu3_1: 256 channels of 12×12")
    figures.add(bytes(explorer.figure_widget.value))
    explorer.channel_slider.value = 200
    figures.add(bytes(explorer.figure_widget.value))
    explorer.page_checkbox.value = True
    figures.add(bytes(explorer.figure_widget.value))
    explorer.image_dropdown.value = "b"
    figures.add(bytes(explorer.figure_widget.value))
    assert len(figures) == 5  # every change redrew the figure
    explorer.layer_dropdown.value = "relu1_1"  # 64 channels: the slider's range shrinks and channel 200 becomes 63
    assert explorer.channel_slider.max == 63 and explorer.channel_slider.value == 63
    assert png_image(explorer.figure_widget.value).width > 400


def test_feature_map_explorer_features_match_the_network():
    explorer = widgets.feature_map_explorer({"a": picture(32, 32, 4)}, size=32)
    explorer.layer_dropdown.value = "conv2_1"
    expected = explorer.model(explorer.images["a"], ["conv2_1"])["conv2_1"]
    assert torch.equal(explorer.features(), expected)


PNG_BYTES = png_of(picture(30, 20, 5))


def test_uploaded_files_reads_the_ipywidgets_7_shape():
    value = {"mine.png": {"metadata": {"name": "mine.png", "type": "image/png", "size": 3}, "content": b"abc"}}
    assert widgets.uploaded_files(value) == [("mine.png", b"abc")]


def test_uploaded_files_reads_the_ipywidgets_8_shape():
    value = ({"name": "mine.png", "type": "image/png", "size": 3, "content": memoryview(b"abc"),
              "last_modified": datetime(2024, 1, 1, tzinfo=timezone.utc)},)
    assert widgets.uploaded_files(value) == [("mine.png", b"abc")]
    assert widgets.uploaded_files(()) == [] and widgets.uploaded_files({}) == []


def upload(widget: ipywidgets.FileUpload, name: str, data: bytes) -> None:
    """What the browser does when a learner picks a file, in the installed ipywidgets' own shape."""
    if IPYWIDGETS_MAJOR >= 8:
        widget.value = ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
                         "last_modified": datetime(2024, 1, 1, tzinfo=timezone.utc)},)
    else:
        widget.metadata = [{"name": name, "type": "image/png", "size": len(data), "lastModified": 0}]
        widget.data = [data]
        widget.set_trait("_counter", widget._counter + 1)


def test_uploaded_files_reads_a_file_upload_widget():
    widget = ipywidgets.FileUpload()
    upload(widget, "photo.png", PNG_BYTES)
    assert widgets.uploaded_files(widget) == [("photo.png", PNG_BYTES)]


def test_studio_stylizes_an_uploaded_photo_and_saves_it(tmp_path):
    studio = widgets.studio(size=32, steps=2, folder=tmp_path / "outputs")
    preview = bytes(studio.previews["content"].value)
    studio.save_button.click()
    assert studio.status_text.startswith("Nothing to save") and not (tmp_path / "outputs").exists()

    upload(studio.content_upload, "my photo.png", PNG_BYTES)
    choice = "upload: my photo.png"  # uploads are offered apart from the shipped examples
    assert studio.content_dropdown.value == choice and choice in studio.content_dropdown.options
    assert torch.equal(studio.images[choice], load_image(Image.open(io.BytesIO(PNG_BYTES))))
    assert studio.status_text == f"Uploaded {choice}."
    assert bytes(studio.previews["content"].value) != preview

    studio.style_dropdown.value = "mosaic"
    studio.ratio_slider.value = ratio = 10.0 ** (studio.ratio_slider.min + 1)
    studio.steps_slider.value = 3
    studio.run_button.click()
    settings = studio.last_settings
    assert isinstance(settings, StyleSettings) and settings is studio.last_result.settings
    assert settings.style_weight == pytest.approx(1 / ratio) and settings.steps == 3 and settings.size == 32
    assert [s["steps"] for s in studio.last_result.schedule] == [3]
    assert studio.last_result.image.shape == (1, 3, 32, 21)  # the 30x20 upload at size 32
    assert not studio.save_button.disabled

    path = studio.save()
    assert path == tmp_path / "outputs" / "my-photo_mosaic.png"
    assert torch.equal(load_image(path), load_image(Image.open(io.BytesIO(png_of(studio.last_result.image)))))
    link = studio.download.value
    assert 'download="my-photo_mosaic.png"' in link and 'href="data:image/png;base64,' in link
    studio.save_button.click()  # saving again never overwrites
    assert (tmp_path / "outputs" / "my-photo_mosaic_2.png").is_file() and "my-photo_mosaic_2.png" in studio.status_text


# The studio with bad uploads and awkward names (issue 14, item 12): a status line, never a traceback.


def png_header_only(width: int, height: int) -> bytes:
    """A PNG announcing ``width`` x ``height`` pixels but holding none: a decompression bomb costs nothing to make."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def jpeg_cut_in_half() -> bytes:
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, format="JPEG")
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


BAD_UPLOADS = [
    ("notes.png", b"these are not pixels", "notes.png is not an image Pillow can read"),
    ("cut.jpg", jpeg_cut_in_half(), "cut.jpg is truncated or corrupted; download or export it again"),
    ("huge.png", png_header_only(12_000, 9_000), "huge.png is 12000x9000 = 108 megapixels, more than the limit of 100 "
                                                  "megapixels; resize it first"),
    ("bomb.png", png_header_only(20_000, 20_000), "bomb.png is too large to decode safely"),
    ("big.png", b"\x89PNG" + bytes(widgets.MAX_UPLOAD_BYTES), "big.png is 20.0 MB, more than the upload limit of 20 "
                                                               "MB; shrink it or save it as JPEG"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_UPLOADS, ids=[case[0] for case in BAD_UPLOADS])
def test_studio_bad_upload_is_a_status_line_naming_the_file(name, data, message):
    studio = widgets.studio(size=32, steps=2)
    options, value = studio.style_dropdown.options, studio.style_dropdown.value
    upload(studio.style_upload, name, data)  # through the widget, as the browser does: the observer must not raise
    assert studio.status_text.startswith("Upload skipped: ") and message in studio.status_text
    assert "Traceback" not in studio.status_text and "\n" not in studio.status_text
    assert studio.style_dropdown.options == options and studio.style_dropdown.value == value
    assert studio.add_uploads("style", [(name, data)]) == []  # called directly: the same, and nothing added
    assert message in studio.status_text


def test_studio_skips_a_bad_upload_and_keeps_a_good_one_of_the_same_batch():
    studio = widgets.studio(size=32, steps=2)
    added = studio.add_uploads("content", [("notes.png", b"text"), ("photo.png", PNG_BYTES)])
    assert added == ["upload: photo.png"] and studio.content_dropdown.value == "upload: photo.png"
    assert "notes.png is not an image" in studio.status_text


def test_studio_upload_named_like_an_example_never_replaces_it():
    studio = widgets.studio(size=32, steps=2)
    example = studio.image("chelsea").clone()
    for name in ("chelsea", "chelsea.png"):
        upload(studio.content_upload, name, PNG_BYTES)
        assert studio.content_dropdown.value == f"upload: {name}"
    assert torch.equal(studio.image("chelsea"), example)  # the example is still the cat
    assert studio.content_dropdown.options.count("chelsea") == 1
    assert studio.image("upload: chelsea").shape == (1, 3, 30, 20)


@pytest.mark.parametrize(("raw", "shown"), [
    ("../../etc/passwd.png", "passwd.png"),
    ("C:\\Users\\me\\photo.png", "photo.png"),
    ("a\x00b<script>.png", "a_b_script_.png"),
    ("  .hidden.png", "hidden.png"),
    ("", "upload"),
    ("x" * 300 + ".png", "x" * widgets.MAX_NAME_CHARS + ".png"),
])
def test_upload_names_are_sanitized(raw, shown):
    assert widgets.upload_name(raw) == shown


def test_studio_save_shortens_a_300_character_name_and_never_raises(tmp_path):
    studio = widgets.studio(size=32, steps=2, folder=tmp_path / "outputs")
    studio.add_uploads("content", [("n" * 300 + ".png", PNG_BYTES)])
    studio.last_result = Result(image=picture(8, 8, 6), history={}, frames=[], seconds=0.0)
    path = studio.save()
    assert path is not None and path.is_file() and len(path.name) <= 2 * widgets.MAX_NAME_CHARS + 10
    assert path.name == "n" * widgets.MAX_NAME_CHARS + "_swirls.png"
    (tmp_path / "blocked").write_text("a file where the folder should be")
    studio.folder = tmp_path / "blocked" / "outputs"
    assert studio.save() is None  # the button's callback never raises
    status = studio.status_text
    assert status.startswith(f"Could not save into {studio.folder} (") and status.endswith("press Save again")
    studio.save_button.click()
    assert studio.status_text.startswith("Could not save into")


# What a class sees (issue 18): a first view without a kernel, one status line, state and view in step, estimates.


FIRST_VIEWS = {
    "feature maps": lambda: widgets.feature_map_explorer({"cat": picture(48, 64, 7)}, size=48),
    "style layers": lambda: widgets.style_layer_explorer(STYLE, size=32, steps=2),
    "loss lab": lambda: widgets.loss_lab(CONTENT, STYLE, size=32, steps=2),
    "studio": lambda: widgets.studio(size=32, steps=2),
}


@pytest.mark.parametrize("kind", FIRST_VIEWS)
def test_each_experiment_displays_a_picture_and_a_line_of_text_beside_its_widget_view(kind):
    """JupyterLab (untrusted notebook) and GitHub cannot draw a widget view: they show the picture instead."""
    shown = FIRST_VIEWS[kind]()
    bundle = shown._repr_mimebundle_()
    assert bundle["text/plain"] == f"{shown.name}: an interactive experiment (run this cell to use it)"
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == shown.model_id
    preview = png_image(bundle["image/png"])
    assert 300 <= preview.width <= 700 and preview.height >= 150 and len(bundle["image/png"]) < 80_000
    assert len(np.unique(np.asarray(preview.convert("RGB")).reshape(-1, 3), axis=0)) > 20  # a picture, not a blank


def test_displaying_an_experiment_publishes_the_whole_bundle(monkeypatch):
    published = []
    monkeypatch.setattr(experiment, "display", lambda data, raw: published.append(data))
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=2)
    data, _metadata = DisplayFormatter().format(lab)  # what IPython does with a cell's last value
    shown = published[0] if IPYWIDGETS_MAJOR < 8 else data  # ipywidgets 7 displays it itself
    assert set(shown) == {"text/plain", "image/png", "application/vnd.jupyter.widget-view+json"}


def test_images_keep_their_aspect_ratio_and_hide_while_empty():
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=2)
    for image in (lab.image_widget, lab.loss_widget):
        assert image.layout.height == "auto" and image.layout.align_self == "flex-start"  # a row cannot stretch it
        assert image.layout.object_fit == "contain"
    assert lab.image_widget.layout.display is None and lab.loss_widget.layout.display == "none"  # no empty plot


def test_the_loss_plot_draws_the_chosen_terms_and_the_total_last_and_dashed():
    history = {"total": [4.0, 2.0], "style": [3.0, 1.5], "range": [0.5, 0.1], "content": [0.0, 0.0]}
    lines = widgets.loss_figure([1, 2], history).axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["style", "range", "total"]  # zero terms left out, total on top
    assert lines[-1].get_linestyle() == "--" and lines[-1].get_linewidth() < lines[0].get_linewidth()
    only = widgets.loss_figure([1, 2], history, terms=("style",)).axes[0].get_lines()
    assert [line.get_label() for line in only] == ["style"]


def test_the_style_layer_explorers_loss_plot_leaves_out_the_range_term():
    explorer = widgets.style_layer_explorer(STYLE, size=32, steps=2)
    assert explorer.loss_terms == ("style",)
    explorer.run_button.click()
    assert "range" in explorer.last_result.history  # recorded, but notebook 04 introduces it


def test_the_estimate_comes_from_the_measured_pace_and_warns_before_a_long_run(monkeypatch):
    explorer = widgets.style_layer_explorer(STYLE, size=32, steps=2)
    monkeypatch.setitem(experiment._pace, "original", (2.0, 1.0))  # 2 s per step of a million pixels, 1 s set-up
    explorer.size_slider.value, explorer.steps_slider.value = 256, 100  # 1 + 2 x 0.065536 x 100 = 14.1 s
    assert explorer.estimate.value.endswith("Estimated time: about 10 s on this machine (100 steps at 256 px)</span>")
    explorer.size_slider.value = 512  # 53.4 s: a warning with advice, before anyone presses Run
    assert "⚠ Estimated time: about 50 s on this machine (100 steps at 512 px): a long run." in explorer.estimate.value
    explorer.size_slider.value, explorer.steps_slider.value = 32, 5
    explorer.run_button.click()  # a finished run replaces the pace with its own: time between its updates
    (first, started), (last, ended) = explorer._ticks[0], explorer._ticks[-1]
    assert (first, last) == (1, 5)
    pace, setup = experiment._pace["original"]
    assert pace == pytest.approx((ended - started) / 4 / (32**2 / 1e6)) and setup >= 0
    assert explorer.estimated_seconds(explorer.settings()) == pytest.approx(setup + pace * 32**2 * 5 / 1e6)


def test_a_probe_measures_the_pace_before_the_first_run(monkeypatch):
    monkeypatch.delitem(experiment._pace, "random", raising=False)
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=2, weights="random")
    pace, setup = experiment._pace["random"]
    assert 0 < pace < 1000 and setup == 0 and "Estimated time:" in lab.estimate.value


def test_a_refused_upload_leaves_the_upload_button_empty_and_the_dropdown_as_it_was():
    studio = widgets.studio(size=32, steps=2)
    upload(studio.style_upload, "notes.png", b"not an image")
    assert widgets.uploaded_files(studio.style_upload) == []  # its count says 0 again, not "Your style (1)"
    assert studio.style_dropdown.value == "swirls" and studio.status_text.startswith("Upload skipped: notes.png")
    upload(studio.style_upload, "mine.png", PNG_BYTES)
    assert widgets.uploaded_files(studio.style_upload) == [] and studio.style_dropdown.value == "upload: mine.png"


def test_a_painting_that_cannot_be_loaded_returns_the_dropdown_to_the_last_good_choice(monkeypatch):
    studio = widgets.studio(size=32, steps=2)
    preview = bytes(studio.previews["style"].value)
    load_example = widgets.load_example

    def offline(name, max_size=None):
        if name == "starry_night":
            raise DownloadError("the classic image 'starry_night' is downloaded on demand and that failed")
        return load_example(name, max_size=max_size)

    monkeypatch.setattr(widgets, "load_example", offline)
    studio.style_dropdown.value = "starry_night"
    assert studio.style_dropdown.value == "swirls" and studio.shown["style"] == "swirls"
    assert studio.status_text == ("Cannot use starry_night: the classic image 'starry_night' is downloaded on demand "
                                  "and that failed")
    assert bytes(studio.previews["style"].value) == preview
    studio.style_dropdown.value = "mosaic"
    assert studio.shown["style"] == "mosaic" and bytes(studio.previews["style"].value) != preview


def test_choice_buttons_mark_the_chosen_option():
    lab = widgets.loss_lab(CONTENT, STYLE, size=32, steps=2)
    assert list(lab.init_buttons.icons) == ["check", "", ""]
    lab.init_buttons.value = "noise"
    assert list(lab.init_buttons.icons) == ["", "check", ""]
