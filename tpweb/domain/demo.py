"""Deterministic demo data: a sales team, Chicago-area accounts, their touchpoints and history."""

import itertools
import random
from datetime import date, datetime, time, timedelta

from tpweb.domain.schedule import next_call
from tpweb.extensions import db
from tpweb.models import Account, CallLog, CallLogType, Contact, Touchpoint, TouchpointRecord, User

TIMEZONE = "America/Chicago"
CALL_TYPES = ["Phone", "Visit", "Video", "Email", "Text"]
CALL_TYPE_WEIGHTS = [6, 5, 1, 2, 2]
FREQUENCIES = [7, 14, 21, 30, 45, 60, 90]
CUSTOMERS, JOBSITES = 400, 200
REP_NAMES = [
    "Tom Nowak", "Angela Ruiz", "Kevin Murphy", "Priya Patel",
    "Marcus Johnson", "Erin Schultz", "Luis Hernandez", "Katie Sullivan",
]  # fmt: skip
MANAGER_NAMES = ["Maria Kowalski", "James O'Brien"]

PLACES = [
    ("Naperville", 41.7508, -88.1535), ("Evanston", 42.0451, -87.6877),
    ("Schaumburg", 42.0334, -88.0834), ("Joliet", 41.5250, -88.0817),
    ("Oak Park", 41.8850, -87.7845), ("Aurora", 41.7606, -88.3201),
    ("Elgin", 42.0354, -88.2826), ("Waukegan", 42.3636, -87.8448),
    ("Cicero", 41.8456, -87.7539), ("Arlington Heights", 42.0884, -87.9806),
    ("Bolingbrook", 41.6986, -88.0684), ("Palatine", 42.1103, -88.0342),
    ("Skokie", 42.0324, -87.7416), ("Des Plaines", 42.0334, -87.8834),
    ("Orland Park", 41.6303, -87.8539), ("Tinley Park", 41.5731, -87.7845),
    ("Oak Lawn", 41.7109, -87.7581), ("Berwyn", 41.8506, -87.7937),
    ("Mount Prospect", 42.0664, -87.9373), ("Wheaton", 41.8661, -88.1070),
    ("Downers Grove", 41.8089, -88.0112), ("Glenview", 42.0698, -87.7878),
    ("Hoffman Estates", 42.0630, -88.1227), ("Elmhurst", 41.8995, -87.9403),
    ("Lombard", 41.8800, -88.0078), ("Buffalo Grove", 42.1514, -87.9598),
    ("Park Ridge", 42.0111, -87.8406), ("Highland Park", 42.1817, -87.8003),
    ("Libertyville", 42.2831, -87.9531), ("Crystal Lake", 42.2411, -88.3162),
    ("St. Charles", 41.9142, -88.3087), ("Plainfield", 41.6270, -88.2037),
    ("Romeoville", 41.6475, -88.0895), ("Chicago Heights", 41.5061, -87.6356),
    ("Calumet City", 41.6156, -87.5295), ("Northbrook", 42.1275, -87.8290),
    ("Franklin Park", 41.9353, -87.8656), ("Lincoln Park", 41.9214, -87.6513),
    ("Pilsen", 41.8565, -87.6562), ("Logan Square", 41.9231, -87.7093),
]  # fmt: skip
STREETS = [
    "Main St", "Ogden Ave", "Roosevelt Rd", "Lake St", "Grand Ave", "Irving Park Rd",
    "Golf Rd", "Higgins Rd", "Dundee Rd", "Algonquin Rd", "Cermak Rd", "Harlem Ave",
    "Cicero Ave", "Western Ave", "Halsted St", "Devon Ave", "Touhy Ave", "Oakton St",
    "Butterfield Rd", "Warrenville Rd", "North Ave", "Archer Ave", "Pulaski Rd", "Wolf Rd",
]  # fmt: skip
AREA_CODES = ["312", "630", "847", "708"]
NAME_WORDS = [
    "Prairie Ridge", "Lakeshore", "Fox River", "Des Plaines", "North Shore", "Midwest",
    "Great Lakes", "Windy City", "Heartland", "Ironwood", "Oak Ridge", "Summit",
    "Cornerstone", "Keystone", "Tri-County", "DuPage", "Kane County", "Cardinal", "Sterling",
    "Blue Island", "Calumet", "Illinois Valley", "Lincolnway", "Northwest", "Red Oak",
    "Silver Creek", "Hawthorn", "Union Ridge", "Meadowbrook", "Big Timber", "Salt Creek",
]  # fmt: skip
TRADES = [
    "Builders", "Concrete", "Supply", "Roofing", "Excavating", "Electric", "Plumbing & Heating",
    "Masonry", "Steel", "Paving", "Landscaping", "Drywall", "Mechanical", "Lumber", "Glass",
    "Demolition", "Contractors", "Construction", "Equipment Rental", "Ready Mix", "Fencing",
]  # fmt: skip
SUFFIXES = ["", "", "", " Inc.", " LLC", " Co.", " & Sons"]
CUSTOMER_NOTES = [
    "Pays net 30; invoices by email to the office.", "Seasonal: busiest April to October.",
    "Expanding into commercial work this year.", "Key account: quarterly review with the owner.",
    "Picks up at the Joliet yard, rarely takes delivery.", "Credit hold lifted last spring.",
    "Family business, second generation.", "Bids mostly public work: schools and parks.",
    "Price-sensitive; always asks for a competing quote.", "Prefers deliveries before 7am.",
]  # fmt: skip
JOBSITE_NOTES = ["", "", "Check in at the trailer.", "Gate code 4417.", "Parking on the east lot."]
FIRST_NAMES = [
    "Mike", "Dave", "Steve", "Jen", "Lisa", "Carlos", "Ana", "Brian", "Megan", "Pat", "Joe",
    "Rosa", "Dan", "Kelly", "Tony", "Nicole", "Greg", "Sarah", "Jorge", "Amy", "Frank", "Tina",
    "Ray", "Laura", "Sam", "Diane", "Eddie", "Monica", "Phil", "Grace",
]  # fmt: skip
LAST_NAMES = [
    "Kowalski", "Nowak", "Wojcik", "O'Malley", "Murphy", "Garcia", "Hernandez", "Johnson",
    "Williams", "Schmidt", "Mueller", "Rossi", "Russo", "Kim", "Nguyen", "Anderson", "Olson",
    "Peterson", "Lewandowski", "Walsh", "Jackson", "Lopez", "Reyes", "Hoffman", "Becker", "Dvorak",
]  # fmt: skip
TITLES = [
    "Owner", "President", "Project Manager", "Purchasing Manager", "Estimator",
    "Superintendent", "Office Manager", "Operations Manager", "Foreman", "Accounts Payable",
]  # fmt: skip
COMMENTS = [
    "Spouse {spouse}; kids {kid} and {kid2}.", "Cubs season-ticket holder, third-base side.",
    "White Sox fan; don't bring up the Cubs.", "Coaches {kid}'s travel baseball team.",
    "Wants a text before any visit.", "Best reached before 8am, from the truck.",
    "Fishes for salmon on Lake Michigan most weekends.", "Golfs at Cog Hill on Saturdays.",
    "{kid} starts at UIUC this fall.", "Likes lunch meetings at Portillo's.",
    "Spouse {spouse} does the books; copy them on invoices.", "Restoring a '69 Camaro.",
    "Bears fan; Mondays after a loss are rough.", "Prefers email for anything with numbers.",
    "Runs the Chicago Marathon every October.", "{kid} and {kid2} both play hockey.",
]  # fmt: skip
CALL_NOTES = [
    "Checked in; no open issues.", "Reviewed spring pricing.", "Walked the site with the super.",
    "Discussed delivery schedule for next pour.", "Left voicemail, followed up by text.",
    "Dropped off samples and the new catalogue.", "Talked through a late delivery complaint.",
    "Quoted rebar and mesh for the next phase.", "Owner wants a better price on volume.",
    "Reviewed open invoices with the office.", "Introduced our equipment rental program.",
    "Site is on hold until permits clear.", "Confirmed winter blanket order.",
]  # fmt: skip
RECORD_TOPICS = [
    ("Quote request: 4000 psi mix", "Needs pricing on 40 yards for a foundation pour."),
    ("Asked for certificate of insurance", "Their GC requires an updated COI before work."),
    ("Late delivery complaint", "Two loads arrived after the crew left; wants a credit."),
    ("Wants a demo of the laser level", "Interested for the grading crew; bring one by."),
    ("Fleet rental rates for spring", "Looking at two skid steers from March to June."),
    ("Requested updated W-9", "Accounts payable needs it before the next payment run."),
    ("Follow up on open quote", "Comparing our numbers with a competitor's bid."),
    ("Invoice dispute", "Says the fuel surcharge was not in the quote."),
    ("New project lead", "Breaking ground on a strip mall next month; wants a call."),
    ("Sample request: pavers", "Homeowner wants to see three colours on site."),
]
RESPONSES = [
    "Sent the quote by email.", "Called back; resolved.", "Dropped off the paperwork.",
    "Issued a credit memo.", "Scheduled a demo for next week.", "Sent the form to AP.",
]  # fmt: skip


def seed_demo(today: date, password: str = "tpweb-demo") -> list[tuple[str, str, str]]:
    """Fill the empty database of the app in context with demo data; return the logins."""
    rng = random.Random(2026)
    created = datetime.combine(today - timedelta(days=730), time(14))
    admin, managers, reps = _users(password, created)
    types = [CallLogType(name=name, position=i) for i, name in enumerate(CALL_TYPES)]
    customers, jobsites = _accounts(rng, reps, created)
    contacts_of = _contacts(rng, customers, created)
    touchpoints = _touchpoints(rng, today, [a for a in customers + jobsites if a.sales_rep])
    db.session.add_all(types)
    db.session.flush()
    db.session.add_all(_call_logs(rng, touchpoints, contacts_of, types))
    all_contacts = [contact for people in contacts_of.values() for contact in people]
    db.session.add_all(_records(rng, today, all_contacts, managers))
    logins = [(user.username, password, user.role) for user in [admin, *managers, *reps]]
    db.session.commit()
    return logins


def _users(password, created):
    admin = User(username="admin", name="Dana Whitfield", role="admin")
    # Hashing is deliberately slow: hash once and share it.
    admin.set_password(password)
    managers = [
        User(username=f"manager{i}", name=name, role="manager")
        for i, name in enumerate(MANAGER_NAMES, 1)
    ]
    reps = [
        User(username=f"rep{i}", name=name, role="rep", manager=managers[(i - 1) // 4])
        for i, name in enumerate(REP_NAMES, 1)
    ]
    for user in [admin, *managers, *reps]:
        user.email = f"{user.username}@example.com"
        user.timezone = TIMEZONE
        user.password_hash = admin.password_hash
        user.created_at = created
        db.session.add(user)
    db.session.flush()
    return admin, managers, reps


def _place(rng):
    city, lat, lon = rng.choice(PLACES)
    return city, round(lat + rng.uniform(-0.02, 0.02), 5), round(lon + rng.uniform(-0.02, 0.02), 5)


def _phone(rng):
    return f"({rng.choice(AREA_CODES)}) 555-{rng.randint(100, 9999):04d}"


def _accounts(rng, reps, created):
    next_rep = itertools.cycle(reps).__next__
    taken = set()
    customers = []
    unassigned = set(rng.sample(range(CUSTOMERS), 25))
    for i in range(CUSTOMERS):
        name = ""
        while not name or name in taken:
            name = f"{rng.choice(NAME_WORDS)} {rng.choice(TRADES)}{rng.choice(SUFFIXES)}"
        taken.add(name)
        city, lat, lon = _place(rng)
        customers.append(Account(
            kind="customer", external_id=f"C{i + 1:04d}", name=name, city=city,
            address=f"{rng.randint(100, 9899)} {rng.choice('NSEW')} {rng.choice(STREETS)}",
            phone=_phone(rng), notes=rng.choice(CUSTOMER_NOTES), latitude=lat, longitude=lon,
            sales_rep=None if i in unassigned else next_rep(), created_at=created,
        ))  # fmt: skip
    db.session.add_all(customers)
    db.session.flush()
    jobsites = []
    unassigned = set(rng.sample(range(JOBSITES), 10))
    for i in range(JOBSITES):
        customer = rng.choice(customers)
        street = rng.choice(STREETS)
        city, lat, lon = _place(rng)
        jobsites.append(Account(
            kind="jobsite", customer=customer, external_id=f"J{i + 1:04d}",
            name=f"{customer.name} — {street} site", city=city,
            address=f"{rng.randint(100, 9899)} {rng.choice('NSEW')} {street}",
            phone=_phone(rng), notes=rng.choice(JOBSITE_NOTES), latitude=lat, longitude=lon,
            sales_rep=None if i in unassigned else next_rep(), created_at=created,
        ))  # fmt: skip
    db.session.add_all(jobsites)
    db.session.flush()
    return customers, jobsites


def _contacts(rng, customers, created):
    contacts_of = {}
    for customer in customers:
        domain = "".join(ch for ch in customer.name.lower() if ch.isalnum()) + ".com"
        people = []
        for _ in range(rng.randint(1, 3)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first[0]}{''.join(ch for ch in last if ch.isalpha())}@{domain}".lower()
            people.append(Contact(
                customer=customer, name=f"{first} {last}", title=rng.choice(TITLES),
                email=email, phone=_phone(rng), created_at=created,
            ))  # fmt: skip
        contacts_of[customer] = people
        db.session.add_all(people)
    db.session.flush()
    return contacts_of


def _comment(rng):
    names = dict(spouse=rng.choice(FIRST_NAMES), kid=rng.choice(FIRST_NAMES))
    names["kid2"] = rng.choice([n for n in FIRST_NAMES if n != names["kid"]])
    return " ".join(c.format(**names) for c in rng.sample(COMMENTS, rng.randint(1, 2)))


def _touchpoints(rng, today, assigned):
    idle = rng.sample(assigned, 40)
    lapsed = set(idle[:15])
    idle = set(idle)
    touchpoints = []
    for account in assigned:
        frequency = rng.choice(FREQUENCIES)
        if account in lapsed:
            last = today - timedelta(days=rng.randint(200, 700))
            touchpoints.append(Touchpoint(
                account=account, last_call=last, frequency_days=frequency,
                next_call=next_call(last, frequency), inactive=True,
            ))  # fmt: skip
        if account in idle:
            continue
        roll = rng.random()
        if roll < 0.15:
            ahead = -rng.randint(1, 40)
        elif roll < 0.23:
            ahead = 0
        else:
            # The last call must be in the past, so a touchpoint is due within its frequency.
            ahead = rng.randint(1, min(90, frequency - 1))
        last = today + timedelta(days=ahead - frequency)
        due = next_call(last, frequency)
        if ahead > 0 and rng.random() < 0.07:
            due += timedelta(days=rng.randint(3, 21))
        touchpoints.append(Touchpoint(
            account=account, last_call=last, frequency_days=frequency, next_call=due,
            comment=_comment(rng) if rng.random() < 0.33 else "",
        ))  # fmt: skip
    for touchpoint in touchpoints:
        stamp = datetime.combine(touchpoint.last_call, time(17))
        touchpoint.created_at = touchpoint.updated_at = stamp
    db.session.add_all(touchpoints)
    db.session.flush()
    return touchpoints


def _call_logs(rng, touchpoints, contacts_of, types):
    logs = []
    for touchpoint in touchpoints:
        account = touchpoint.account
        people = contacts_of[account.customer or account]
        day = touchpoint.last_call
        for _ in range(rng.randint(2, 6)):
            logs.append(CallLog(
                account=account, touchpoint_id=touchpoint.id, user=account.sales_rep,
                contact=rng.choice(people) if rng.random() < 0.33 else None,
                call_type=rng.choices(types, weights=CALL_TYPE_WEIGHTS)[0], called_on=day,
                duration_minutes=rng.randint(5, 90), notes=rng.choice(CALL_NOTES),
                created_at=datetime.combine(day, time(18)),
            ))  # fmt: skip
            day -= timedelta(days=max(1, touchpoint.frequency_days + rng.randint(-3, 3)))
            # The Next Call it completed: the call before it (the next one back) plus frequency.
            logs[-1].completed_next_call = day + timedelta(days=touchpoint.frequency_days)
    return logs


def _records(rng, today, contacts, managers):
    records = []
    for n in range(150):
        contact = rng.choice(contacts)
        owner = contact.customer.sales_rep or rng.choice(managers)
        description, details = rng.choice(RECORD_TOPICS)
        record = TouchpointRecord(
            contact=contact, author=owner, assigned_to=owner, description=description,
            details=details, date_completed=today - timedelta(days=rng.randint(1, 60)),
        )  # fmt: skip
        if n < 60:
            record.response_required = True
            record.date_due = today + timedelta(days=rng.randint(-10, 20))
            recorded = record.date_due - timedelta(days=rng.randint(2, 14))
            record.date_completed = min(recorded, today - timedelta(days=1))
            if rng.random() < 0.35:
                waited = rng.randint(1, (today - record.date_completed).days)
                record.responded_on = record.date_completed + timedelta(days=waited)
                record.response_note = rng.choice(RESPONSES)
                record.responded_by_id = owner.id
        record.created_at = datetime.combine(record.date_completed, time(15))
        records.append(record)
    return records
