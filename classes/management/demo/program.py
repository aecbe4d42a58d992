"""The demo program as plain data: the site, the semester's dates, categories, venues and
instructors of a fictional public library's class program (modelled on a mid-sized Kansas library's
fee-based classes). Its courses are in ``data``.

Only tables live here; ``courses`` turns them into rows. Every date is an offset in days from the
day the command runs. All people, addresses, phone numbers (555-01xx) and e-mail addresses
(example.org) are made up.
"""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

# fmt: off
# (The tables below keep one record to a few lines; the formatter would spread them over ~1,400.)

# The semester, in days from today.
SEMESTER_STARTS = -35  # five weeks ago
SEMESTER_ENDS = 84  # twelve weeks from now
REGISTRATION_OPENED = -42  # six weeks ago, at 9:00
CUTOFF_DAYS = 7

SITE = {
    "library_name": "Prairie City Public Library",
    "program_name": "Library Classes",
    "street_address": "301 W. Elm Street",
    "city_state_zip": "Salina, KS 67401",
    "phone": "(785) 555-0142",
    "email": "classes@example.org",
}

# (slug, name, position, description)
CATEGORIES = [
    ("cooking-food", "Cooking & Food", 10, "Hands-on cooking and baking in a real kitchen, from knife skills to sourdough."),
    ("arts-crafts", "Arts & Crafts", 20, "Painting, drawing, fiber arts and glass for beginners and returning makers."),
    ("technology", "Technology", 30, "Phones, computers, spreadsheets and staying safe online, at an unhurried pace."),
    ("health-wellness", "Health & Wellness", 40, "Gentle movement, first aid and eating well."),
    ("home-garden", "Home & Garden", 50, "Fix it yourself, grow your own and make your yard work for Kansas weather."),
    ("money-careers", "Money & Careers", 60, "Budgets, benefits, job searching and small business basics."),
    ("language-culture", "Language & Culture", 70, "Conversation classes and sign language for the whole family."),
    ("history-community", "History & Community", 80, "Local history, family history and the stories of the prairie."),
    ("music-dance", "Music & Dance", 90, "Pick up an instrument or get on the dance floor. No experience needed."),
    ("kids-family", "Kids & Family", 100, "Classes for children, and for grown-ups and kids together."),
]

LIBRARY_ADDRESS = ("301 W. Elm Street", Decimal("38.840310"), Decimal("-97.611420"))
LIBRARY_ACCESS = (
    "Step-free entrance from the Elm Street doors; elevator to both floors; accessible restrooms on "
    "every floor; hearing loop in the Prescott Room."
)
LIBRARY_PARKING = (
    "Free library lot off 4th Street (two accessible spaces by the north doors) and two-hour "
    "street parking on Elm Street."
)


@dataclass(frozen=True)
class VenueSpec:
    slug: str
    name: str
    kind: str  # "library" | "outside"
    street_address: str
    latitude: Decimal
    longitude: Decimal
    capacity: int
    accessibility_notes: str
    parking_notes: str
    room_fee_terms: str = "none"  # "none" | "per_meeting" | "per_hour"
    room_fee_rate: Decimal = Decimal("0.00")
    contact: str = ""


VENUES = [
    VenueSpec(
        "prescott-room", "Prescott Room", "library", *LIBRARY_ADDRESS, 40, LIBRARY_ACCESS, LIBRARY_PARKING,
        contact="Room bookings, circulation desk, (785) 555-0142",
    ),
    VenueSpec(
        "technology-center", "Technology Center", "library", *LIBRARY_ADDRESS, 16,
        "Ground floor, step-free. Two height-adjustable workstations, large-print keyboards and a screen magnifier.",
        LIBRARY_PARKING, contact="Technology Center desk, (785) 555-0143",
    ),
    VenueSpec(
        "story-room", "Story Room", "library", *LIBRARY_ADDRESS, 30,
        "Lower level by the children's department; elevator from the main lobby. Family restroom next door.",
        LIBRARY_PARKING, contact="Youth services desk, (785) 555-0144",
    ),
    VenueSpec(
        "prairie-community-kitchen", "Prairie Community Kitchen", "outside", "1120 N. Ninth Street",
        Decimal("38.852140"), Decimal("-97.608950"), 14,
        "Step-free entrance at the east door; one lowered prep counter; stools available on request.",
        "Free lot behind the building; overflow parking across Meadowlark Street after 5 pm.",
        room_fee_terms="per_hour", room_fee_rate=Decimal("25.00"),
        contact="Kitchen manager, (785) 555-0161, billed monthly by the hour",
    ),
    VenueSpec(
        "heartland-middle-school", "Heartland Middle School (shop room 112)", "outside", "2150 Cottonwood Drive",
        Decimal("38.823760"), Decimal("-97.592310"), 24,
        "Enter through door 4 on the west side (ramp); the shop room is on the ground floor.",
        "Use the west visitor lot; the front circle is for buses until 4:30 pm.",
        room_fee_terms="per_meeting", room_fee_rate=Decimal("35.00"),
        contact="Building custodian via the district office, (785) 555-0172",
    ),
    VenueSpec(
        "grace-fellowship-hall", "Grace Community Church Fellowship Hall", "outside", "620 S. Walnut Grove Avenue",
        Decimal("38.831980"), Decimal("-97.617840"), 60,
        "Fellowship hall is at ground level from the south parking-lot door; accessible restrooms off the hall.",
        "Large free lot on the south side. Please do not park in the reserved pastor and van spaces.",
        room_fee_terms="per_meeting", room_fee_rate=Decimal("40.00"),
        contact="Church office, (785) 555-0185 (weekdays 9–1)",
    ),
    VenueSpec(
        "cottonwood-senior-center", "Cottonwood Senior Center", "outside", "245 E. Prairie Rose Lane",
        Decimal("38.845520"), Decimal("-97.598470"), 30,
        "Single-level building with automatic doors; chairs with arms in every room; community garden "
        "beds are raised and reachable from a wheelchair.",
        "Free lot at the front door with six accessible spaces.",
        contact="Center director, (785) 555-0190 (room donated by the center)",
    ),
    VenueSpec(
        "riverbend-arts-center", "Riverbend Arts Center (studio B)", "outside", "88 Riverbend Place",
        Decimal("38.837260"), Decimal("-97.624980"), 14,
        "Studio B is on the ground floor; step-free from the main entrance; stand-up and sit-down easels.",
        "Free parking along Riverbend Place and in the gravel lot by the river trail.",
        room_fee_terms="per_hour", room_fee_rate=Decimal("12.00"),
        contact="Studio coordinator, (785) 555-0196",
    ),
]


@dataclass(frozen=True)
class InstructorSpec:
    key: str
    first_name: str
    last_name: str
    bio: str
    pay_basis: str = "hourly"  # "hourly" | "volunteer"
    hourly_rate: Decimal = Decimal("15.00")
    is_library_staff: bool = False
    phone: str = ""

    @property
    def email(self) -> str:
        name = unicodedata.normalize("NFKD", f"{self.first_name}.{self.last_name}").encode("ascii", "ignore").decode()
        return f"{name.lower().replace(' ', '')}@example.org"


INSTRUCTORS = [
    InstructorSpec("peg", "Margaret", "Lindquist", "Peg ran the kitchen at a Lindsborg bed-and-breakfast for twenty years and now teaches home cooks to work faster and waste less.", hourly_rate=Decimal("25.00"), phone="785-555-0101"),
    InstructorSpec("tomas", "Tomás", "Herrera", "Tomás learned to cook in his grandmother's kitchen in Chihuahua and caters family celebrations all over the county.", hourly_rate=Decimal("20.00"), phone="785-555-0102"),
    InstructorSpec("ruth", "Ruth", "Okafor", "A home baker who has kept the same sourdough starter alive since 2011 and sells bread at the Saturday farmers market.", hourly_rate=Decimal("20.00"), phone="785-555-0103"),
    InstructorSpec("dale", "Dale", "Brandt", "Retired contractor and lifelong woodworker. Dale volunteers with the county's home repair program.", pay_basis="volunteer", phone="785-555-0104"),
    InstructorSpec("janelle", "Janelle", "Whitaker", "Painter and art teacher whose prairie landscapes hang in several local businesses.", hourly_rate=Decimal("25.00"), phone="785-555-0105"),
    InstructorSpec("priya", "Priya", "Raman", "Certified yoga and tai chi instructor who specializes in gentle classes for beginners and older adults.", hourly_rate=Decimal("25.00"), phone="785-555-0106"),
    InstructorSpec("kevin", "Kevin", "Osei", "The library's technology coordinator. Kevin answers tech questions at the Technology Center desk every weekday.", pay_basis="volunteer", is_library_staff=True, phone="785-555-0107"),
    InstructorSpec("annmarie", "Ann-Marie", "Duval", "Local history and genealogy librarian; she has helped hundreds of families find their Kansas roots.", pay_basis="volunteer", is_library_staff=True, phone="785-555-0108"),
    InstructorSpec("carla", "Carla", "Mendoza", "Carla grew up in Monterrey and has taught Spanish to adults at the community college for twelve years.", hourly_rate=Decimal("20.00"), phone="785-555-0109"),
    InstructorSpec("harold", "Harold", "Jensen", "Retired community banker and a volunteer counselor for the state's Medicare counseling program.", pay_basis="volunteer", phone="785-555-0110"),
    InstructorSpec("lena", "Lena", "Fischer", "Lena has knit, crocheted and quilted for fifty years and leads the library's Thursday stitching circle.", hourly_rate=Decimal("15.00"), phone="785-555-0111"),
    InstructorSpec("marcus", "Marcus", "Bell", "Guitarist and music teacher who plays in a local bluegrass band and believes anyone can learn three chords.", hourly_rate=Decimal("25.00"), phone="785-555-0112"),
    InstructorSpec("rosa", "Rosa", "Delgado", "Dance instructor and two-time regional ballroom champion who teaches couples and singles alike.", hourly_rate=Decimal("20.00"), phone="785-555-0113"),
    InstructorSpec("beth", "Beth", "Carlson", "Extension master gardener who manages the senior center's community garden.", pay_basis="volunteer", phone="785-555-0114"),
    InstructorSpec("nate", "Nate", "Yoder", "Youth services librarian who runs the library's maker space and robotics club.", pay_basis="volunteer", is_library_staff=True, phone="785-555-0115"),
    InstructorSpec("grace", "Grace", "Kim", "Wedding and portrait photographer who also folds a mean paper crane.", hourly_rate=Decimal("20.00"), phone="785-555-0116"),
    InstructorSpec("walter", "Walter", "Pruitt", "President of the county historical society and author of two books on Kansas cattle towns.", pay_basis="volunteer", phone="785-555-0117"),
    InstructorSpec("ellen", "Ellen", "Marsh", "Registered nurse and certified first aid and CPR instructor.", hourly_rate=Decimal("30.00"), phone="785-555-0118"),
    InstructorSpec("denise", "Denise", "Rowe", "Career coach at the regional workforce center who has reviewed more than two thousand résumés.", hourly_rate=Decimal("20.00"), phone="785-555-0119"),
    InstructorSpec("hannah", "Hannah", "Greer", "Hannah is Deaf, teaches American Sign Language at church and school events, and volunteers her time.", pay_basis="volunteer", phone="785-555-0120"),
]
