"""Image maths of ImageField: bounds, crop boxes, EXIF orientation, variant specs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridfield.core.errors import ImageTooLarge
from gridfield.core.images import (
    DEFAULT_MAX_PIXELS,
    THUMBNAIL,
    SizeSpec,
    VariantSpec,
    bounded_size,
    centre_crop,
    check_pixels,
    child_fields,
    child_ids,
    content_type_for_format,
    decode_size,
    main_image_size,
    orientation_steps,
    oriented_size,
    parse_max_pixels,
    parse_size,
    parse_variants,
    pixel_limit,
    save_mode,
)

FEW = settings(max_examples=200, deadline=None)
sides = st.integers(min_value=1, max_value=20_000)
sizes = st.tuples(sides, sides)
specs = st.builds(SizeSpec, sides, sides, st.booleans())


@FEW
@given(sizes, specs)
def test_bounded_size_fits_the_bound_and_never_enlarges_unless_forced(
    source: tuple[int, int], bound: SizeSpec
) -> None:
    width, height = bounded_size(source, bound)
    if bound.force:
        assert (width, height) == (bound.width, bound.height)
    else:
        assert width <= source[0] and height <= source[1]
        assert width <= bound.width and height <= bound.height
        assert width >= 1 and height >= 1


@FEW
@given(sizes, specs.filter(lambda s: not s.force))
def test_a_shrunk_image_keeps_its_aspect_within_a_pixel(
    source: tuple[int, int], bound: SizeSpec
) -> None:
    width, height = bounded_size(source, bound)
    if (width, height) == source:
        return
    # One side meets the bound; the other is the source's ratio, rounded.
    assert width == bound.width or height == bound.height
    assert abs(width * source[1] - height * source[0]) <= max(source) + source[0] + source[1]


@FEW
@given(sizes, specs)
def test_the_main_image_is_only_resized_when_larger_than_its_bounds(
    source: tuple[int, int], bound: SizeSpec
) -> None:
    target = main_image_size(source, bound)
    inside = source[0] <= bound.width and source[1] <= bound.height
    assert (target is None) == inside
    if target is not None:
        assert target == bounded_size(source, bound)


def test_mongoengine_sizes() -> None:
    # MongoEngine's own test image is 371 x 76: forced to 185 x 37, thumbnail 92 x 18.
    assert main_image_size((371, 76), SizeSpec(185, 37, True)) == (185, 37)
    assert bounded_size((371, 76), SizeSpec(92, 18, True)) == (92, 18)
    assert main_image_size((371, 76), SizeSpec(185, 185, False)) == (185, 38)
    assert main_image_size((371, 76), None) is None
    assert bounded_size((100, 50), SizeSpec(400, 400, False)) == (100, 50)
    assert bounded_size((100, 50), SizeSpec(400, 400, True)) == (400, 400)


@FEW
@given(sizes, sizes)
def test_centre_crop_is_inside_centred_and_has_the_target_aspect(
    source: tuple[int, int], target: tuple[int, int]
) -> None:
    left, top, right, bottom = centre_crop(source, target)
    assert 0 <= left < right <= source[0] and 0 <= top < bottom <= source[1]
    # One side is whole; the other is cut evenly on both ends (to a pixel).
    assert (left, right) == (0, source[0]) or (top, bottom) == (0, source[1])
    assert abs(left - (source[0] - right)) <= 1 and abs(top - (source[1] - bottom)) <= 1
    crop_w, crop_h = right - left, bottom - top
    # The box's aspect is the target's, to within the rounding of one side.
    assert abs(crop_w * target[1] - crop_h * target[0]) <= max(target) + target[0] + target[1]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientations_five_to_eight_swap_the_sides(orientation: int) -> None:
    assert oriented_size((40, 30), orientation) == ((30, 40) if orientation >= 5 else (40, 30))
    assert len(orientation_steps(orientation)) == (0 if orientation == 1 else 1)


@given(st.one_of(st.none(), st.text(), st.integers().filter(lambda n: not 1 <= n <= 8)))
def test_unknown_orientations_leave_the_image_alone(orientation: object) -> None:
    assert orientation_steps(orientation) == ()
    assert oriented_size((40, 30), orientation) == (40, 30)


def test_parse_size_reads_tuples_lists_and_mongoengine_dicts() -> None:
    assert parse_size(None, "size") is None
    assert parse_size((10, 20), "size") == SizeSpec(10, 20, False)
    assert parse_size([10, 20, True], "size") == SizeSpec(10, 20, True)
    assert parse_size({"width": 10, "height": 20, "force": None}, "size") == SizeSpec(10, 20)
    assert SizeSpec(10, 20, True).as_mongoengine() == {"width": 10, "height": 20, "force": True}


@pytest.mark.parametrize(
    "bad", [(0, 10), (10, -1), (10,), (1, 2, 3, 4), "10x20", (1.5, 2), (True, 2)]
)
def test_parse_size_names_the_option_it_refuses(bad: object) -> None:
    with pytest.raises(ValueError, match="thumbnail_size"):
        parse_size(bad, "thumbnail_size")


def test_parse_variants() -> None:
    assert parse_variants(None) == ()
    assert parse_variants({"small": (320, 320), "square": (64, 64, True, "webp")}) == (
        VariantSpec("small", SizeSpec(320, 320, False)),
        VariantSpec("square", SizeSpec(64, 64, True), "WEBP"),
    )
    for bad in ({THUMBNAIL: (1, 1)}, {"a b": (1, 1)}, {"x": (1, 1, False, 3)}, {"x": (0, 1)}):
        with pytest.raises(ValueError):
            parse_variants(bad)


def test_content_types_and_save_modes() -> None:
    assert content_type_for_format("PNG") == "image/png"
    assert content_type_for_format("jpeg") == "image/jpeg"
    assert content_type_for_format("WEBP") == "image/webp"
    assert content_type_for_format("NOPE") is None
    assert content_type_for_format(None) is None
    assert save_mode("RGBA", "JPEG") == "RGB"
    assert save_mode("P", "JPEG") == "RGB"
    assert save_mode("LA", "JPEG") == "L"
    assert save_mode("RGB", "JPEG") is None
    assert save_mode("RGBA", "PNG") is None


@FEW
@given(sizes, st.lists(sizes, max_size=4))
def test_every_target_can_be_cut_from_the_decode_size(
    source: tuple[int, int], targets: list[tuple[int, int]]
) -> None:
    found = decode_size(source, targets)
    if found is None:
        # Only when some target needs the whole source (or there is none).
        assert not targets or any(w >= source[0] or h >= source[1] for w, h in targets)
        return
    width, height = found
    assert 1 <= width <= source[0] and 1 <= height <= source[1]
    for w, h in targets:
        # A centre crop of the target's aspect from the decoded size covers the target.
        left, top, right, bottom = centre_crop(found, (w, h))
        assert right - left >= w - 1 and bottom - top >= h - 1


# --------------------------------------------------------------------------- pixel limits


@FEW
@given(st.integers(1, 20_000), st.integers(1, 20_000), st.integers(1, 1000), st.integers(1, 10**9))
def test_check_pixels_counts_every_frame_and_refuses_past_the_limit(
    width: int, height: int, frames: int, limit: int
) -> None:
    pixels = width * height * frames
    if pixels <= limit:
        assert check_pixels((width, height), frames, limit, "D.i") == pixels
        return
    with pytest.raises(ImageTooLarge, match=r"^Image too large for D\.i: ") as caught:
        check_pixels((width, height), frames, limit, "D.i")
    assert (caught.value.pixels, caught.value.limit) == (pixels, limit)
    assert f"is {pixels} pixels, over the limit of {limit} (max_pixels)" in str(caught.value)
    assert ("frames" in str(caught.value)) == (frames > 1)


def test_check_pixels_without_a_limit_and_with_zero_sides() -> None:
    assert check_pixels((13000, 13000), 1, None, "D.i") == 169_000_000
    assert check_pixels((0, 5), 0, 10, "D.i") == 5  # a zero side still counts one pixel


def test_the_pixel_limit_is_the_lower_of_the_fields_and_pillows() -> None:
    assert pixel_limit(DEFAULT_MAX_PIXELS, 89_478_485) == DEFAULT_MAX_PIXELS
    assert pixel_limit(200_000_000, 89_478_485) == 89_478_485
    assert pixel_limit(None, 89_478_485) == 89_478_485
    assert pixel_limit(10, None) == 10
    assert pixel_limit(None, None) is None


def test_parse_max_pixels() -> None:
    assert parse_max_pixels(None) is None
    assert parse_max_pixels(1) == 1
    for bad in (0, -5, 1.5, True, "10"):
        with pytest.raises(ValueError, match="max_pixels must be a positive int"):
            parse_max_pixels(bad)


@given(
    st.dictionaries(
        st.sampled_from([THUMBNAIL, "small", "wide", "square"]), st.integers(), max_size=4
    )
)
def test_an_images_child_ids_are_read_back_from_the_fields_that_name_them(
    ids: dict[str, int],
) -> None:
    fields = child_fields(ids)
    assert child_ids(fields) == ids
    assert child_ids({"_id": 1, "length": 3, **fields}) == ids  # read from a files document
    assert fields["thumbnail_id"] == ids.get(THUMBNAIL)  # what older readers look for
    assert ("variants" in fields) == bool(set(ids) - {THUMBNAIL})


def test_child_ids_ignore_what_names_no_file() -> None:
    assert child_ids({"thumbnail_id": None, "variants": "x"}) == {}
    assert child_ids({"variants": {"a": None, "b": 2}}) == {"b": 2}
