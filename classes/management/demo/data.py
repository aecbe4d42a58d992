"""The demo semester's courses as plain data, and the fictional names of their attendees (the
program's site, venues and instructors are in ``program``).

Only tables live here; ``courses`` turns them into rows. Every date is an offset in days from the
day the command runs, and every time is local, so the schedule has the same shape whatever day it
is loaded: a few courses already held, some past the week-out cutoff, some a few days from it and
most weeks away. All names are made up.
"""

from dataclasses import dataclass, field

# fmt: off
# (The tables below keep one record to a few lines; the formatter would spread them over ~1,400.)


@dataclass(frozen=True)
class CourseSpec:
    """One course. ``day`` is the first meeting's offset from today; it meets ``weeks`` times,
    once a week, at local ``time`` for ``minutes``. ``price`` is "budget" (the suggested fee,
    rounded up to a catalog-friendly amount), "free", or a fee as a string. ``fill`` says how many
    confirmed registrations to load (see ``courses.FILL``)."""

    slug: str
    title: str
    category: str
    instructor: str
    venue: str
    day: int
    time: str
    minutes: int
    capacity: int
    minimum: int
    description: str
    weeks: int = 1
    audience: str = "adults"
    ages: tuple[int | None, int | None] = (None, None)
    materials: str = "0"
    supplies: str = "0"
    price: str = "budget"
    fill: str = "few"
    draft: bool = False
    bring: str = ""
    venue_overrides: dict[int, str] = field(default_factory=dict)  # meeting index → venue slug


C = CourseSpec

COURSES = [
    # --- Cooking & Food ------------------------------------------------------------------------
    C("knife-skills-basics", "Knife Skills Basics", "cooking-food", "peg", "prairie-community-kitchen", -33, "18:00", 150, 12, 6,
      "Hold, sharpen and use a chef's knife safely, then dice, slice and julienne your way through a pot of soup.",
      materials="45", fill="good", bring="An apron and closed-toe shoes. Bring your own knife if you want it sharpened."),
    C("sourdough-from-scratch", "Sourdough from Scratch", "cooking-food", "ruth", "prairie-community-kitchen", -4, "18:00", 150, 10, 5,
      "Week one: feed and shape. Week two: bake. Go home with a loaf, a banneton and a jar of starter.",
      weeks=2, materials="30", supplies="60", price="65", fill="full", bring="An apron and a clean quart jar with a lid."),
    C("homemade-tamales", "Homemade Tamales", "cooking-food", "tomas", "prairie-community-kitchen", 2, "17:30", 180, 12, 6,
      "Spread masa, fill and fold three kinds of tamales: red chile pork, green chile chicken and sweet raisin.",
      materials="72", fill="full", bring="An apron and a container for the dozen tamales you take home."),
    C("fresh-pasta-by-hand", "Pasta Night: Fresh Noodles by Hand", "cooking-food", "peg", "prairie-community-kitchen", 8, "18:00", 150, 12, 6,
      "Mix, knead and roll pasta dough without a machine, cut fettuccine and ravioli, and eat what you make.",
      materials="40", fill="low", bring="An apron."),
    C("salsas-and-street-tacos", "Salsas and Street Tacos", "cooking-food", "tomas", "prairie-community-kitchen", 14, "18:00", 150, 12, 6,
      "Roast and blend four salsas, press corn tortillas and grill carne asada for a taco supper.",
      materials="54", fill="min", bring="An apron."),
    C("bread-baking-basics", "Bread Baking Basics", "cooking-food", "ruth", "prairie-community-kitchen", 30, "10:00", 180, 10, 5,
      "Sandwich loaves, dinner rolls and a braided challah: the yeast-bread basics that never fail.",
      materials="25", fill="nearly", bring="An apron and two clean kitchen towels."),
    C("canning-and-preserving", "Canning and Preserving", "cooking-food", "peg", "prairie-community-kitchen", 33, "13:00", 180, 10, 5,
      "Water-bath canning, safely: jam in week one, pickles and salsa in week two. Tested recipes only.",
      weeks=2, materials="70", fill="few", bring="An apron. Jars and lids are provided."),
    C("kids-in-the-kitchen", "Kids in the Kitchen", "cooking-food", "tomas", "prairie-community-kitchen", 37, "10:00", 120, 10, 5,
      "Young cooks measure, mix and make a three-course lunch: quesadillas, fruit salsa and churro bites.",
      audience="kids", ages=(8, 12), materials="35", fill="full", bring="Hair ties for long hair and closed-toe shoes."),
    C("cake-decorating-101", "Cake Decorating 101", "cooking-food", "ruth", "prairie-community-kitchen", 52, "18:00", 150, 10, 5,
      "Level, fill and crumb-coat a layer cake, then pipe borders, rosettes and lettering.",
      supplies="60", draft=True, fill="none"),
    # --- Arts & Crafts -------------------------------------------------------------------------
    C("beginning-watercolor", "Beginning Watercolor", "arts-crafts", "janelle", "riverbend-arts-center", -31, "18:30", 120, 12, 6,
      "Washes, wet-into-wet and dry brush in three relaxed evenings; finish with a small prairie landscape.",
      weeks=3, supplies="36", fill="good"),
    C("knitting-your-first-hat", "Knitting: Your First Hat", "arts-crafts", "lena", "cottonwood-senior-center", 8, "13:30", 120, 10, 4,
      "Cast on, knit in the round, decrease and finish a warm hat in four weeks. Perfect for first-time knitters.",
      weeks=4, supplies="25", fill="min", bring="Nothing: yarn and needles are included."),
    C("acrylic-pour-painting", "Acrylic Pour Painting", "arts-crafts", "janelle", "riverbend-arts-center", 18, "18:30", 150, 12, 6,
      "Mix pouring medium, tilt and swipe your way to two colorful abstract canvases. Messy and fun.",
      supplies="60", fill="full", bring="Clothes you don't mind getting paint on."),
    C("embroidery-basics", "Hand Embroidery Basics", "arts-crafts", "lena", "cottonwood-senior-center", -6, "10:00", 90, 10, 5,
      "Backstitch, satin stitch and French knots on a small hoop sampler, one stitch family a week.",
      weeks=3, supplies="18", fill="low", bring="Nothing: hoops, floss and needles are included."),
    C("intro-to-quilting", "Introduction to Quilting", "arts-crafts", "lena", "grace-fellowship-hall", 31, "18:00", 120, 12, 5,
      "Cut, piece and quilt a table runner over six weeks, with plenty of help at the sewing machines.",
      weeks=6, supplies="40", price="75", fill="few", bring="A sewing machine if you have one (a few are available to borrow)."),
    C("sketching-for-beginners", "Sketching for Beginners", "arts-crafts", "janelle", "prescott-room", 36, "18:30", 90, 16, 6,
      "Line, shape, shading and perspective with just a pencil. Leave with a sketchbook full of practice.",
      weeks=4, supplies="20", fill="low"),
    C("stained-glass-suncatchers", "Stained Glass Suncatchers", "arts-crafts", "janelle", "riverbend-arts-center", 47, "10:00", 180, 8, 4,
      "Score and break glass, wrap it in copper foil and solder a suncatcher to hang in your window.",
      materials="80", price="55", fill="nearly", bring="Closed-toe shoes and long sleeves. Safety glasses are provided."),
    C("teen-comic-art", "Teen Comic Art", "arts-crafts", "janelle", "story-room", 27, "16:00", 90, 12, 5,
      "Create characters, lay out panels and ink a one-page comic. For teens who love to draw.",
      weeks=3, audience="teens", ages=(12, 17), supplies="15", fill="good"),
    # --- Technology ----------------------------------------------------------------------------
    C("smartphone-basics", "Smartphone Basics", "technology", "kevin", "technology-center", -29, "10:00", 90, 12, 4,
      "Calls, texts, photos, settings and apps: a patient, hands-on start for new Android and iPhone owners.",
      weeks=2, price="free", fill="good", bring="Your phone, charged, and its passcode."),
    C("protect-yourself-from-online-scams", "Protect Yourself from Online Scams", "technology", "kevin", "prescott-room", 5, "14:00", 90, 40, 5,
      "How phishing, gift-card and grandparent scams work, the warning signs, and what to do if you clicked.",
      price="free", fill="good"),
    C("excel-essentials", "Excel Essentials", "technology", "kevin", "technology-center", 11, "18:00", 120, 14, 6,
      "Formulas, sorting, filters and charts. Build a household budget and a mailing list you can actually use.",
      weeks=3, fill="full"),
    C("google-docs-and-drive", "Google Docs and Drive", "technology", "kevin", "technology-center", 39, "18:00", 120, 14, 5,
      "Write, share and store documents in the cloud, and find them again later.",
      weeks=2, fill="none", bring="Your Google account password if you have an account."),
    C("intro-to-coding-with-scratch", "Intro to Coding with Scratch", "technology", "nate", "technology-center", 29, "16:00", 90, 14, 6,
      "Program games and animations with drag-and-drop code blocks. Share your project with family on the last day.",
      weeks=4, audience="kids", ages=(9, 13), price="free", fill="good"),
    C("3d-printing-for-teens", "3D Printing for Teens", "technology", "nate", "technology-center", 54, "16:00", 120, 10, 4,
      "Design a keychain and a phone stand in free 3D software, then print them on the library's printers.",
      weeks=2, audience="teens", ages=(12, 17), supplies="30", fill="low"),
    # --- Health & Wellness ---------------------------------------------------------------------
    C("gentle-yoga", "Gentle Yoga for Every Body", "health-wellness", "priya", "grace-fellowship-hall", -13, "10:00", 75, 20, 8,
      "Slow stretching, balance and breathing. Every pose has a chair or wall option.",
      weeks=6, fill="good", bring="A yoga mat if you have one, water and comfortable clothes."),
    C("chair-yoga", "Chair Yoga", "health-wellness", "priya", "cottonwood-senior-center", 17, "13:30", 75, 20, 6,
      "All the benefits of yoga without getting down on the floor. Seated and standing with a chair for support.",
      weeks=4, fill="min"),
    C("first-aid-and-cpr", "First Aid and CPR", "health-wellness", "ellen", "prescott-room", 23, "09:00", 180, 12, 6,
      "Adult CPR, AED use, choking and basic first aid, with a two-year completion card.",
      supplies="48", fill="nearly"),
    C("babysitting-basics", "Babysitting Basics", "health-wellness", "ellen", "story-room", 20, "09:30", 180, 16, 6,
      "Safety, diapering, feeding, first aid and how to talk to parents about pay. Teens leave ready for their first job.",
      audience="teens", ages=(11, 15), supplies="24", fill="full", bring="A sack lunch."),
    C("eating-well-after-50", "Eating Well After 50", "health-wellness", "ellen", "cottonwood-senior-center", 36, "10:00", 90, 25, 8,
      "Protein, fiber, salt and sugar: what changes as we age, and easy ways to eat better on a budget.",
      weeks=2, price="5", fill="good"),
    C("mindfulness-for-stress", "Mindfulness for Stress", "health-wellness", "priya", "prescott-room", 40, "18:30", 90, 20, 6,
      "Simple breathing and attention practices you can use at work, at home and at 3 a.m.",
      weeks=3, fill="few"),
    C("tai-chi-for-balance", "Tai Chi for Balance", "health-wellness", "priya", "grace-fellowship-hall", 43, "10:00", 75, 20, 8,
      "Slow, flowing movements shown to reduce falls. Six weeks to learn a short form you can practice at home.",
      weeks=6, fill="low"),
    # --- Home & Garden -------------------------------------------------------------------------
    C("raised-bed-vegetable-gardening", "Raised-Bed Vegetable Gardening", "home-garden", "beth", "prescott-room", 10, "18:30", 90, 30, 8,
      "Plan, build and fill a raised bed, then choose vegetables that thrive in Kansas heat. The last session meets in the senior center's garden.",
      weeks=3, fill="low", venue_overrides={2: "cottonwood-senior-center"}),
    C("basic-home-repairs", "Basic Home Repairs", "home-garden", "dale", "heartland-middle-school", 35, "18:30", 120, 16, 6,
      "Patch drywall, fix a leaky faucet, replace a light switch safely and stop a running toilet.",
      weeks=4, materials="40", fill="good", bring="Work gloves and safety glasses if you have them."),
    C("build-a-birdhouse", "Build a Birdhouse", "kids-family", "dale", "heartland-middle-school", 38, "10:00", 120, 20, 8,
      "Grown-ups and kids measure, saw, drill and nail together a bluebird house to take home. One adult per child.",
      audience="family", ages=(7, None), materials="80", fill="full", bring="Closed-toe shoes for everyone."),
    C("composting-101", "Composting 101", "home-garden", "beth", "prescott-room", 46, "18:30", 90, 30, 6,
      "Turn kitchen scraps and leaves into black gold: bins, piles, worms and what not to add.",
      price="free", fill="few"),
    C("native-plants-for-kansas-yards", "Native Plants for Kansas Yards", "home-garden", "beth", "prescott-room", 58, "14:00", 90, 40, 8,
      "Coneflowers, little bluestem and milkweed: beautiful, tough plants that feed pollinators and need little water.",
      fill="good"),
    # --- Money & Careers -----------------------------------------------------------------------
    C("medicare-made-clear", "Medicare Made Clear", "money-careers", "harold", "cottonwood-senior-center", 7, "10:00", 120, 30, 5,
      "Parts A, B, C and D, supplements and enrollment periods, explained by a volunteer counselor. Nothing is sold.",
      price="free", fill="good"),
    C("budgeting-that-works", "Budgeting That Works", "money-careers", "harold", "prescott-room", 16, "18:30", 90, 30, 5,
      "Track spending, plan for irregular bills and build an emergency fund without spreadsheets.",
      weeks=2, price="free", fill="min"),
    C("resume-and-interview-skills", "Résumé and Interview Skills", "money-careers", "denise", "technology-center", 26, "18:00", 120, 14, 5,
      "Week one: a résumé that gets past the software. Week two: practice interviews with feedback.",
      weeks=2, fill="low", bring="Your current résumé, if you have one, on paper or a USB stick."),
    C("start-a-small-business", "Start a Small Business", "money-careers", "denise", "story-room", 43, "18:30", 120, 24, 8,
      "From idea to first customer: business plans, registration, taxes, insurance and free local help.",
      weeks=3, fill="few"),
    C("estate-planning-basics", "Estate Planning Basics", "money-careers", "harold", "prescott-room", 48, "14:00", 90, 40, 8,
      "Wills, trusts, powers of attorney and beneficiary forms: what they do and the questions to ask a lawyer.",
      fill="few"),
    C("investing-101", "Investing 101", "money-careers", "harold", "prescott-room", 62, "18:30", 90, 30, 8,
      "Stocks, bonds, index funds and fees, in plain words.",
      weeks=3, price="free", draft=True, fill="none"),
    # --- Language & Culture --------------------------------------------------------------------
    C("conversational-spanish-1", "Conversational Spanish I", "language-culture", "carla", "prescott-room", -9, "18:30", 90, 18, 8,
      "Greetings, numbers, directions and ordering food, practiced in pairs from the first night.",
      weeks=6, supplies="12", fill="good"),
    C("conversational-spanish-2", "Conversational Spanish II", "language-culture", "carla", "prescott-room", 37, "18:30", 90, 18, 8,
      "For those who finished Spanish I or remember some from school: past tense, stories and small talk.",
      weeks=6, supplies="12", fill="low"),
    C("spanish-for-travelers", "Spanish for Travelers", "language-culture", "carla", "prescott-room", 28, "10:00", 180, 20, 6,
      "The 200 words and phrases that get you through airports, hotels, restaurants and pharmacies.",
      supplies="8", fill="good"),
    C("sign-language-for-families", "American Sign Language for Families", "language-culture", "hannah", "story-room", 21, "18:00", 90, 20, 6,
      "Fingerspelling, everyday signs and Deaf culture for parents, grandparents and kids together.",
      weeks=4, audience="family", ages=(6, None), fill="min"),
    # --- History & Community -------------------------------------------------------------------
    C("prairie-homesteads", "Kansas Prairie Homesteads", "history-community", "walter", "prescott-room", -20, "19:00", 90, 40, 8,
      "Sod houses, dugouts and the Homestead Act: how settlers made a life on the plains, with photographs from the society's archive.",
      fill="good"),
    C("writing-your-family-history", "Writing Your Family History", "history-community", "annmarie", "prescott-room", 11, "14:00", 120, 20, 6,
      "Turn names and dates into stories your grandchildren will read. Bring a photo or document to start from.",
      weeks=2, fill="low"),
    C("ancestry-research-online", "Ancestry Research Online", "history-community", "annmarie", "technology-center", 25, "10:00", 120, 14, 5,
      "Census, immigration and military records with the library's free genealogy databases.",
      weeks=2, price="free", fill="nearly"),
    C("downtown-architecture-walk", "Downtown Architecture Walk", "history-community", "walter", "prescott-room", 39, "10:00", 120, 20, 6,
      "Meet at the library for a short talk, then walk two easy blocks of Victorian storefronts and Art Deco banks.",
      fill="good", bring="Comfortable walking shoes. The walk is about one mile on sidewalks."),
    # --- Music & Dance -------------------------------------------------------------------------
    C("ukulele-for-beginners", "Ukulele for Beginners", "music-dance", "marcus", "story-room", 3, "18:30", 90, 12, 6,
      "Four chords, a dozen songs and a strum that works for all of them. Loaner ukuleles available.",
      weeks=4, fill="nearly", bring="A ukulele if you have one."),
    C("intro-to-line-dancing", "Intro to Line Dancing", "music-dance", "rosa", "grace-fellowship-hall", 4, "19:00", 90, 30, 10,
      "The Electric Slide, the Cupid Shuffle and three country classics. No partner needed.",
      weeks=4, fill="low"),
    C("guitar-basics", "Guitar Basics", "music-dance", "marcus", "story-room", 30, "18:30", 90, 12, 6,
      "Tune, hold and strum; learn open chords and play your first songs with the group.",
      weeks=6, fill="good", bring="An acoustic guitar."),
    C("salsa-for-couples", "Salsa for Couples", "music-dance", "rosa", "grace-fellowship-hall", 46, "19:00", 90, 24, 8,
      "Basic steps, turns and a short routine. Register both partners.",
      weeks=3, fill="few"),
    # --- Kids & Family -------------------------------------------------------------------------
    C("lego-robotics-lab", "LEGO Robotics Lab", "kids-family", "nate", "technology-center", 6, "16:00", 90, 12, 6,
      "Build and program robots that roll, sense and solve challenges. Final-day robot race for families.",
      weeks=3, audience="kids", ages=(9, 12), supplies="18", fill="full"),
    C("family-board-game-night", "Family Board Game Night", "kids-family", "nate", "prescott-room", 9, "18:00", 120, 40, 10,
      "Learn and play cooperative and strategy games from the library's collection. Snacks provided.",
      audience="family", ages=(6, None), price="free", fill="good"),
    C("storytime-science", "Storytime Science", "kids-family", "nate", "story-room", 33, "10:00", 75, 16, 6,
      "A picture book and a hands-on experiment each week: bubbles, magnets and volcanoes.",
      weeks=3, audience="kids", ages=(4, 7), supplies="20", fill="nearly"),
    C("family-pizza-night", "Family Pizza Night", "kids-family", "tomas", "prairie-community-kitchen", 24, "17:30", 120, 14, 6,
      "Stretch dough, make sauce and top your own pizzas, then eat together. One adult per family.",
      audience="family", ages=(5, None), materials="50", fill="min"),
    C("kids-origami", "Kids' Origami", "kids-family", "grace", "story-room", 19, "14:00", 90, 16, 6,
      "Fold frogs that jump, cranes that flap and a box to keep them in.",
      audience="kids", ages=(7, 11), supplies="10", fill="few"),
    C("digital-photography", "Digital Photography: Get Off Auto", "arts-crafts", "grace", "prescott-room", 13, "18:30", 120, 16, 6,
      "Aperture, shutter speed, ISO and composition. Weekly photo assignments with friendly critique.",
      weeks=4, fill="good", bring="Your camera and its manual (any camera with manual settings)."),
]

# Fictional attendee names for the demo registrations.
ATTENDEE_FIRST_NAMES = [
    "Abigail", "Aiden", "Alma", "Arlo", "Bea", "Calvin", "Carmen", "Clara", "Darius", "Delia", "Eli", "Esther",
    "Faye", "Felix", "Gloria", "Gus", "Hazel", "Hector", "Ida", "Imani", "Jasper", "June", "Kai", "Lorraine",
    "Luis", "Mabel", "Milo", "Nadia", "Nell", "Omar", "Opal", "Otis", "Pearl", "Quentin", "Ramona", "Rudy",
    "Sadie", "Silas", "Tessa", "Theo", "Una", "Vera", "Wes", "Willa", "Xavier", "Yara", "Zeke", "Zora",
]
ATTENDEE_LAST_NAMES = [
    "Abbott", "Bauer", "Castillo", "Dawson", "Engel", "Fairbanks", "Garza", "Holm", "Ibarra", "Jorgensen",
    "Kowalski", "Larkin", "Maddox", "Nakamura", "Ortega", "Petrov", "Quinlan", "Rasmussen", "Schafer", "Tran",
    "Underwood", "Vogel", "Whitfield", "Yates", "Zimmer", "Albers", "Beckett", "Crowley", "Dietz", "Ellison",
    "Fenwick", "Grady", "Hartman", "Iverson", "Kessler", "Lindahl", "Mercer", "Novak", "Pruett", "Sorensen",
]
