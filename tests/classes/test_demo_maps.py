"""The demo venues' map images: ``seed_demo`` draws one per venue (a PNG Pillow can open), a second
run draws nothing new, and a map staff uploaded is never replaced."""

import base64
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from PIL import Image

from classes.management.demo import program as demo_data
from classes.management.demo.maps import street_name, venue_map_png, venue_maps_ensure
from classes.models import Venue
from tests.factories import VenueFactory

pytestmark = pytest.mark.django_db


def map_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "venues" / "maps"
    return sorted(folder.iterdir()) if folder.exists() else []


def seed():
    call_command("seed_demo", stdout=io.StringIO())


def test_seed_demo_gives_every_demo_venue_a_map_image_and_a_second_run_adds_none():
    seed()
    venues = list(Venue.objects.filter(slug__in=[spec.slug for spec in demo_data.VENUES]))
    assert len(venues) == len(demo_data.VENUES)
    for venue in venues:
        assert venue.map_image, venue.slug
        with venue.map_image.open("rb") as file, Image.open(file) as image:
            assert image.format == "PNG"
            assert image.size == (600, 400)
            image.verify()
    files = map_files()
    assert len(files) == len(venues)
    names = {venue.slug: venue.map_image.name for venue in venues}
    sizes = {path.name: path.stat().st_size for path in files}

    seed()
    assert map_files() == files
    assert {path.name: path.stat().st_size for path in map_files()} == sizes
    assert {v.slug: v.map_image.name for v in Venue.objects.filter(slug__in=names)} == names


def test_a_map_staff_uploaded_is_kept():
    venue = VenueFactory()
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, format="PNG")
    venue.map_image.save("hand-drawn.png", ContentFile(out.getvalue()))
    assert venue_maps_ensure([venue]) == 0
    venue.refresh_from_db()
    assert venue.map_image.name == "venues/maps/hand-drawn.png"
    assert [path.name for path in map_files()] == ["hand-drawn.png"]


def test_a_missing_file_is_drawn_again_under_the_same_name():
    venue = VenueFactory(name="Prairie Community Kitchen", slug="prairie-kitchen", street_address="1120 N. Ninth Street")
    assert venue_maps_ensure([venue]) == 1
    name = venue.map_image.name
    assert name == "venues/maps/prairie-kitchen.png"
    venue.map_image.storage.delete(name)
    assert venue_maps_ensure([venue]) == 1
    venue.refresh_from_db()
    assert venue.map_image.name == name and venue.map_image.storage.exists(name)
    assert venue_maps_ensure([venue]) == 0  # nothing to do


def test_the_drawing_is_deterministic_and_small():
    venue = Venue(name="Riverbend Arts Center (studio B)", slug="riverbend", street_address="88 Riverbend Place",
                  city="Salina", state="KS", postal_code="67401")
    data = venue_map_png(venue)
    assert data == venue_map_png(venue)
    assert len(data) < 30_000
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (600, 400)


@pytest.mark.parametrize(("address", "street"), [
    ("1120 N. Ninth Street", "N. Ninth Street"),
    ("301 W. Elm Street", "W. Elm Street"),
    ("2150B Cottonwood Drive, Suite 4", "Cottonwood Drive"),
    ("", "Main Street"),
])
def test_street_name(address, street):
    assert street_name(address) == street


# --- the map in the back office ----------------------------------------------------------------

def test_venue_admin_shows_the_map_field_and_a_small_preview(staff_client):
    from django.urls import reverse

    venue = VenueFactory(name="Story Room")
    url = reverse("admin:classes_venue_change", args=[venue.pk])
    html = staff_client.get(url).content.decode()
    assert 'name="map_image"' in html and 'enctype="multipart/form-data"' in html
    assert "No map yet" in html

    venue_maps_ensure([venue])
    html = staff_client.get(url).content.decode()
    preview = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="Map of Story Room"', html)
    assert preview
    with Image.open(io.BytesIO(base64.b64decode(preview.group(1)))) as image:
        assert image.size == (300, 200)

    venue.map_image.save("broken.png", ContentFile(b"not an image"))
    assert "cannot be read as an image" in staff_client.get(url).content.decode()
