"""Family "arithmetic": everyday arithmetic, percentages and plane/solid geometry.

Each template draws its numbers, writes a short program with named variables that prints the
answer, and computes the expected answer itself (often by a different route, e.g. exact
fractions instead of floats) so verification compares two independent computations.
Not covered here: trigonometry, algebra and number theory (see `advanced_math`).
"""

from __future__ import annotations

import math
from fractions import Fraction

from worldmodel.data.templates.base import Draft, Values, code, human, num, template

FAMILY = "arithmetic"

ITEMS = (
    "jacket",
    "lamp",
    "bicycle",
    "backpack",
    "chair",
    "kettle",
    "printer",
    "guitar",
    "monitor",
    "tent",
    "blender",
    "desk",
    "camera",
    "scooter",
    "sofa",
    "watch",
)


def _round2(value: Fraction) -> float:
    return round(float(value), 2)


@template(
    "percent_of",
    FAMILY,
    (
        "What is {pct}% of {amount}?",
        "Calculate {pct} percent of {amount}.",
        "How much is {pct}% of {amount}?",
        "Work out {pct}% of {amount}.",
        "what's {pct} percent of {amount}",
        "I need to set aside {pct}% of {amount} for savings. How much is that?",
        "{pct}% of {amount} = ?",
        "Tell me what {pct} percent of {amount} comes to.",
        "Take {pct}% of {amount}. What do you get?",
        "gimme {pct} percent of {amount} real quick",
        "Please compute {pct} percent of {amount} for me.",
        "My paycheck is {amount} and {pct}% goes to taxes. How much is withheld?",
        "how much do i get if i take {pct} percent out of {amount}",
        "{amount} times {pct}% -- what's the result?",
        "Could you tell me the value of {pct}% applied to {amount}?",
        "Out of a budget of {amount}, {pct}% is spent on marketing. What amount is that?",
        "If a fund of {amount} dollars pays out {pct}% as bonuses, how big is the bonus pool?",
        "Find {pct}% of the number {amount}.",
    ),
    train_phrasings=(
        "hey, quick one: {pct} percent of {amount}?",
        "A bag of flour weighs {amount} grams and {pct}% of it is protein. How many grams of "
        "protein is that?",
        "{amount} is the total. How much of it is {pct}%?",
        "Percentage question: what do you get when you take {pct} percent of a total of {amount}?",
        "pct {pct}, base {amount} -- part?",
        "Our team sold {amount} dollars of goods and I earn a {pct}% commission on that. What is "
        "my commission?",
        "Determine the amount that corresponds to {pct}% of {amount}.",
        "Could you work out {pct} per cent of {amount}, please?",
        "A water tank holds {amount} litres when full and is {pct}% full right now. How many "
        "litres are in it?",
        "The spreadsheet shows a total of {amount}, and the next cell should hold {pct}% of it. "
        "What value goes there?",
        "In the lab, {pct}% of a {amount} mg sample is salt. How many mg of salt does the sample "
        "contain?",
        "What number is {pct} hundredths of {amount}?",
    ),
)
def percent_of(v: Values) -> Draft:
    pct = v.int(1, 99, key=True)
    amount = v.int(20, 5000)
    result = _round2(Fraction(pct * amount, 100))
    return Draft(
        slots={"pct": pct, "amount": amount},
        reasoning=f"{pct}% means {pct}/100, so I multiply {amount} by {pct} and divide by 100.",
        code=code(
            f"amount = {amount}",
            f"percent = {pct}",
            "part = amount * percent / 100",
            "print(round(part, 2))",
        ),
        requires=(),
        answer=f"{pct}% of {amount} is {human(result)}.",
        expected=num(result),
    )


@template(
    "percent_change",
    FAMILY,
    (
        "A price went from {old} to {new}. What is the percentage change?",
        "By what percent did a value change if it moved from {old} to {new}?",
        "Something that used to cost {old} now costs {new}. By how many percent did it change?",
        "what's the % change going from {old} to {new}?",
        "Work out the percentage increase or decrease when {old} becomes {new}.",
        "{old} -> {new}: percent change?",
        "My rent went from {old} to {new}. What percentage change is that?",
        "Tell me the relative change, in percent, from an old value of {old} to a new value of "
        "{new}.",
        "Our website traffic went from {old} visits last month to {new} this month. How big a "
        "change is that in percent?",
        "quick q: old value {old}, new value {new}, change in %?",
        "If a stock opens at {old} and closes at {new}, by what percentage did it move?",
        "went up or down by how many percent? started at {old}, now {new}",
        "Please give the change as a percentage of the original value when {old} turns into {new}.",
        "Starting at {old} and ending at {new}, what's the relative change expressed as a "
        "percentage?",
        "How many percent up or down is {new} compared with a baseline of {old}?",
        "The population of a village went from {old} to {new}. Give the percentage change.",
        "Compute the percent change from {old} to {new}.",
    ),
    train_phrasings=(
        "Last year the club had {old} members; this year it has {new}. What's the percent change "
        "in membership?",
        "hey, a number moved from {old} to {new}. what percent change is that (negative if it "
        "fell)?",
        "From {old} to {new}: how many percent did it rise or fall?",
        "The lab culture counted {old} cells on Monday and {new} on Friday. Give the percentage "
        "change from Monday to Friday.",
        "Relative to the starting value of {old}, what percent change does a new value of {new} "
        "represent?",
        "Express the move from {old} to {new} as a percent change, using a minus sign for a drop.",
        "In my spreadsheet, column A says {old} and column B says {new}. What is the % change "
        "from A to B?",
        "before: {old}. after: {new}. percent change?",
        "Ticket sales were {old} for the first show and {new} for the second, and the drummer was "
        "late both nights. What was the percentage change in sales?",
        "Please find by what percentage of the original a quantity changed when it went from "
        "{old} to {new}.",
        "A sensor reading was {old} and is now {new}. Could you express that change as a "
        "percentage of the first reading?",
        "A bakery baked {old} loaves last week and {new} loaves this week. By what percent did "
        "its output change?",
    ),
)
def percent_change(v: Values) -> Draft:
    old = v.int(20, 900, key=True)
    new = v.int(20, 900)
    if new == old:
        new += 7
    change = _round2(Fraction(new - old, old) * 100)
    word = "an increase" if new > old else "a decrease"
    return Draft(
        slots={"old": old, "new": new},
        reasoning=f"Percent change is (new - old) / old * 100; here ({new} - {old}) / {old} * 100.",
        code=code(
            f"old_value = {old}",
            f"new_value = {new}",
            "change_percent = (new_value - old_value) / old_value * 100",
            "print(round(change_percent, 2))",
        ),
        requires=(),
        answer=f"The change from {old} to {new} is {human(change)}%, {word}.",
        expected=num(change),
    )


@template(
    "discount_price",
    FAMILY,
    (
        "A {item} costs ${price}. It is on sale for {pct}% off. What is the sale price?",
        "What do you pay for a ${price} {item} with a {pct}% discount?",
        "What's the sale price of a ${price} {item} at {pct}% off?",
        "I'm eyeing a {item} listed at ${price}, and it's {pct}% off this week. What would I pay?",
        "Work out the discounted price: {item}, ${price}, {pct}% off.",
        "{pct}% off a ${price} {item} -- what's the final price?",
        "how much is a {item} that normally sells for ${price} after a {pct}% markdown",
        "Tell me the price of a ${price} {item} once a {pct}% discount is applied.",
        "{item} on sale: was ${price}, now {pct}% off. new price?",
        "Got a {pct}% off coupon for a ${price} {item}. What do I end up paying?",
        "Please calculate what a ${price} {item} comes to with {pct} percent knocked off.",
        "The {item} I want is ${price}, but there's a {pct}% off promo. What's my price with the "
        "promo?",
        "how much would a {item} be at {pct}% off if the regular price is ${price}",
        "Original price ${price}, discount {pct}%: what does the {item} go for?",
        "My friend says the ${price} {item} is {pct}% off in the clearance. What does that bring "
        "it down to?",
        "What's left to pay on a ${price} {item} once you subtract {pct}% from it?",
        "A store takes {pct}% off a {item} priced at ${price}. How much does it cost now?",
    ),
    train_phrasings=(
        "hey, the {item} I like is ${price} and the shop has {pct}% off today. what's the price "
        "now?",
        "Everything's {pct}% off, says the sign by the door. What does a ${price} {item} ring up "
        "at?",
        "Regular price of the {item}: ${price}. Discount: {pct}%. Price to pay?",
        "During a Black Friday event every {item} gets {pct}% off. If one lists for ${price}, "
        "what does it sell for?",
        "Please find the reduced price of a {item} that was ${price} before a {pct}% price cut.",
        "How much will I spend on a {item} tagged ${price} if the cashier applies {pct}% off?",
        "My sister bought a {item} marked ${price} using a {pct}% employee discount. How much did "
        "she pay?",
        "discounted {item}: ${price} minus {pct}% = ?",
        "What is the after-discount cost of a {item} whose list price is ${price}, given {pct}% "
        "off?",
        "The online store shows a ${price} {item} with a {pct}% reduction at checkout (shipping "
        "is free). What's the price after the reduction?",
        "Could you tell me how much a {item} costs if it's ${price} and marked down by {pct}%?",
        "Price after a {pct}% cut on a ${price} {item}?",
    ),
)
def discount_price(v: Values) -> Draft:
    item = v.choice(ITEMS)
    price = v.int(15, 2000, key=True)
    pct = v.choice((5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70))
    sale = _round2(Fraction(price) * (100 - pct) / 100)
    return Draft(
        slots={"item": item, "price": price, "pct": pct},
        reasoning=f"A {pct}% discount leaves {100 - pct}% of ${price} to pay.",
        code=code(
            f"price = {price}",
            f"discount_percent = {pct}",
            "sale_price = price * (1 - discount_percent / 100)",
            "print(round(sale_price, 2))",
        ),
        requires=(),
        answer=f"The {item} costs ${human(sale)} after the {pct}% discount.",
        expected=num(sale),
    )


@template(
    "tip_total",
    FAMILY,
    (
        "A dinner bill is ${bill}. With a {pct}% tip, what is the total?",
        "How much do you pay in total for a ${bill} meal if you add a {pct}% tip?",
        "My meal came to ${bill} and I want to leave a {pct}% tip. What should I pay altogether?",
        "what's ${bill} plus a {pct}% tip",
        "Work out the total of a ${bill} check including a {pct}% gratuity.",
        "Bill: ${bill}. Tip: {pct}%. Total?",
        "Tell me the full amount for a ${bill} tab once a {pct}% tip is included.",
        "${bill} for dinner, {pct}% tip on top -- how much altogether?",
        "we owe ${bill} for lunch and want to tip {pct}%. how much do we hand over?",
        "Could you figure out what I pay for a ${bill} check with {pct}% extra as a tip?",
        "Check is ${bill}, I'm tipping {pct}% -- what's the grand total?",
        "The pizza delivery was ${bill}. If I tip the driver {pct}%, how much do I pay in all?",
        "Including a {pct}% tip, what does a ${bill} bar tab come to?",
        "how much is ${bill} after tacking on {pct}% for the server",
        "I'm covering a ${bill} brunch and tipping {pct}%. What's the combined amount I'll pay?",
        "A haircut costs ${bill} and I tip {pct}% of that. How much do I pay altogether?",
        "Add a {pct}% tip to a restaurant bill of ${bill}. What is the total amount?",
    ),
    train_phrasings=(
        "hey, our dinner was ${bill}. if we add {pct}% for the waiter, what do we pay in total?",
        "Total owed with tip: subtotal ${bill}, tip rate {pct}%.",
        "The taxi fare is ${bill} and I like to tip {pct}%. What will the ride cost me including "
        "the tip?",
        "At a {pct}% gratuity, how much does a ${bill} restaurant check cost in all?",
        "Sum of a ${bill} bill and a {pct}% tip on it?",
        "Our group of six ate for ${bill} and we'll add a {pct}% tip. What's the total for the "
        "table?",
        "Please give the amount to pay for a ${bill} coffee order once a {pct}% tip is added to "
        "it.",
        "tip {pct}% on ${bill}, how much total",
        "The receipt says ${bill} before the tip. Adding {pct}%, what should I write as the total?",
        "Could you figure out my final payment? The bill is ${bill} and I'm tipping {pct}%.",
        "Room service came to ${bill}, and I'm adding {pct}% as a tip for the staff. How much is "
        "charged altogether?",
        "What total should I pay if I leave {pct} percent on top of a ${bill} food bill?",
    ),
)
def tip_total(v: Values) -> Draft:
    bill = v.float(10, 300, 2, key=True)
    pct = v.choice((10, 12, 15, 18, 20, 22, 25))
    total = _round2(Fraction(str(bill)) * (100 + pct) / 100)
    return Draft(
        slots={"bill": f"{bill:.2f}", "pct": pct},
        reasoning=f"The tip is {pct}% of the bill, so the total is the bill times {1 + pct / 100}.",
        code=code(
            f"bill = {bill}",
            f"tip_percent = {pct}",
            "tip = bill * tip_percent / 100",
            "total = bill + tip",
            "print(round(total, 2))",
        ),
        requires=(),
        answer=f"The total with a {pct}% tip is ${total:.2f}.",
        expected=num(total),
    )


@template(
    "rectangle_area",
    FAMILY,
    (
        "What is the area of a rectangle that is {w} {unit} wide and {h} {unit} long?",
        "A rectangle measures {w} {unit} by {h} {unit}. Find its area.",
        "How many square {unit} are in a rectangle of {w} {unit} by {h} {unit}?",
        "I'm tiling a rectangular floor that is {w} {unit} wide and {h} {unit} long. What area, in "
        "square {unit}, does it cover?",
        "Work out the area of a rectangle with width {w} {unit} and length {h} {unit}.",
        "rectangle {w} {unit} x {h} {unit}, area?",
        "what's the area of a {w} {unit} by {h} {unit} rectangle",
        "Tell me how much surface a rectangle {w} {unit} across and {h} {unit} long covers.",
        "A rectangular rug is {w} {unit} by {h} {unit}. How much floor does it cover, in square "
        "{unit}?",
        "need the area: {w} {unit} wide, {h} {unit} long, it's a rectangle",
        "Please find how many square {unit} a rectangle with sides {w} {unit} and {h} {unit} has.",
        "My garden plot is rectangular, {h} {unit} long and {w} {unit} wide. What's its area?",
        "If a rectangle has a width of {w} {unit} and a length of {h} {unit}, what area does it "
        "enclose?",
        "Multiply it out for me: rectangle, {w} {unit} wide and {h} {unit} long. Area in square "
        "{unit}?",
        "A poster is {w} {unit} wide and {h} {unit} tall. How many square {unit} of wall does it "
        "take up?",
        "rectangular lot: width {w} {unit}, length {h} {unit}. how many square {unit}?",
        "Compute the area of a {w} by {h} rectangle (in {unit}).",
    ),
    train_phrasings=(
        "A classroom floor is a rectangle {w} {unit} wide by {h} {unit} long. How much carpet, in "
        "square {unit}, covers it?",
        "Length {h} {unit}, width {w} {unit}: area of the rectangle in square {unit}?",
        "hey, how much area does a rectangle have if it's {w} {unit} across and {h} {unit} long?",
        "The spreadsheet lists a rectangle's width ({w} {unit}) and length ({h} {unit}). What "
        "area, in square {unit}, goes in the next column?",
        "Please give me the area of a rectangular field, {h} {unit} long and {w} {unit} wide, in "
        "square {unit}.",
        "rect area: w={w} {unit}, l={h} {unit}",
        "A solar panel array forms a rectangle {w} {unit} wide and {h} {unit} long. What area "
        "does it occupy?",
        "How much space does a {w} {unit} by {h} {unit} rectangular patio take up, in square "
        "{unit}?",
        "Could you multiply width by length for a rectangle of {w} {unit} and {h} {unit} and tell "
        "me the area?",
        "I'm painting a rectangular wall section {w} {unit} wide and {h} {unit} long, and the "
        "paint is blue. How many square {unit} is that?",
        "Square {unit} inside a rectangle of width {w} {unit} and length {h} {unit}?",
        "Find the square {unit} covered by a rectangular sheet measuring {w} {unit} in width and "
        "{h} {unit} in length.",
    ),
)
def rectangle_area(v: Values) -> Draft:
    w = v.int(2, 250, key=True)
    h = v.int(2, 250)
    unit = v.choice(("m", "cm", "ft", "in", "km"))
    area = w * h
    return Draft(
        slots={"w": w, "h": h, "unit": unit},
        reasoning=f"Area of a rectangle is width times length: {w} × {h}.",
        code=code(f"width = {w}", f"length = {h}", "area = width * length", "print(area)"),
        requires=(),
        answer=f"The rectangle's area is {human(area)} square {unit}.",
        expected=num(area),
    )


@template(
    "rectangle_perimeter",
    FAMILY,
    (
        "What is the perimeter of a rectangle with sides {w} and {h}?",
        "A rectangular garden is {w} m by {h} m. How much fencing goes around it?",
        "How long is the boundary of a rectangle whose sides are {w} and {h}?",
        "Work out the total distance around a rectangle with width {w} and height {h}.",
        "rectangle with sides {w} and {h}: perimeter?",
        "I want to put trim around a rectangular picture frame that is {w} cm by {h} cm. How much "
        "trim do I need?",
        "what's the perimeter if a rectangle is {w} wide and {h} tall",
        "Sides {w} and {h} make a rectangle. Tell me its perimeter.",
        "I'm running a string of lights around a rectangular window, {w} cm wide and {h} cm high. "
        "How long must the string be?",
        "what's the distance around a rectangle with side lengths {w} and {h}",
        "If I walk once around a rectangular field measuring {w} m by {h} m, how far do I walk?",
        "Please compute the sum of all four sides of a rectangle whose sides are {w} and {h}.",
        "Width {w}, height {h}. How long is the rectangle's outline?",
        "How much edging do I need to go around a rectangular flower bed that is {w} ft by {h} ft?",
        "Give me the perimeter for a rectangle measuring {w} across and {h} down.",
        "A rectangle's sides are {w} and {h} units long; what is the total length of its border?",
        "Find the perimeter of a {w} by {h} rectangle.",
    ),
    train_phrasings=(
        "hey, add up all four sides of a rectangle with width {w} and height {h} for me",
        "How long is the edge of a rectangular pool measuring {w} m by {h} m, all the way around?",
        "Twice the width plus twice the height, for width {w} and height {h}?",
        "How much ribbon do I need to go once around the edge of a rectangular box lid, {w} cm by "
        "{h} cm?",
        "perimeter of rectangle, width {w}, height {h}",
        "A farmer fences a rectangular paddock {w} m across and {h} m deep. What total length of "
        "fence is needed?",
        "The rectangle in my drawing is {w} units wide and {h} units high. What is its perimeter?",
        "Please tell me the total border length of a rectangle with a width of {w} and a height "
        "of {h}.",
        "Could you compute the perimeter for a rectangle where one side is {w} and the adjacent "
        "side is {h}?",
        "Baseboard for a rectangular room that is {w} ft by {h} ft: how many feet in total, "
        "ignoring doors?",
        "An ant walks once along the edge of a rectangle that is {w} wide and {h} high. How far "
        "does it go?",
        "Given width {w} and height {h}, what's the rectangle's perimeter?",
    ),
)
def rectangle_perimeter(v: Values) -> Draft:
    w = v.int(2, 400, key=True)
    h = v.int(2, 400)
    perimeter = w + w + h + h
    return Draft(
        slots={"w": w, "h": h},
        reasoning=f"The perimeter adds all four sides: 2 × ({w} + {h}).",
        code=code(
            f"width = {w}", f"height = {h}", "perimeter = 2 * (width + height)", "print(perimeter)"
        ),
        requires=(),
        answer=f"The perimeter is {human(perimeter)}.",
        expected=num(perimeter),
    )


@template(
    "circle_area",
    FAMILY,
    (
        "What is the area of a circle with radius {r}?",
        "A circular pond has a radius of {r} meters. What is its area in square meters?",
        "Find the area of a circle that has a radius of {r}.",
        "how big is the area of a circle with r = {r}",
        "I'm covering a round table top of radius {r} ft with cloth. What is its area in square "
        "feet?",
        "Work out the area enclosed by a circle of radius {r}.",
        "Radius {r}: what's the circle's area?",
        "Tell me the area of a circular region whose radius measures {r}.",
        "A pizza has a radius of {r} inches. How many square inches of pizza is that?",
        "area of circle, radius {r}?",
        "Please work out pi times r squared for a circle of radius {r}.",
        "I'm painting a round logo with radius {r} cm on a wall. How much area will it take, in "
        "square cm?",
        "How much area lies inside a circle if its radius is {r}?",
        "A sprinkler waters everything within {r} m of it. What area of lawn gets watered, in "
        "square meters?",
        "Given a radius of {r}, what's the area of the circle?",
        "what area does a round rug with a {r} ft radius cover, in square feet",
        "Compute the area of a circle whose radius is {r}, to two decimals.",
    ),
    train_phrasings=(
        "hey, what's the area inside a circle of radius {r}?",
        "Radius is {r}. How much area does the circle cover?",
        "A circular garden bed has a radius of {r} m. How many square meters does it cover?",
        "Find pi r^2 when r = {r}.",
        "A round trampoline has a {r} ft radius. What is the area of its jumping surface in "
        "square feet?",
        "circle area for r={r} please",
        "Please determine the area of a disc with radius {r}.",
        "The lab's petri dish has an inner radius of {r} cm. Over what area, in square cm, can "
        "the culture spread?",
        "Could you tell me how large the area of a circle is when its radius equals {r}?",
        "I'm ordering a circular tablecloth to exactly cover a round table of radius {r} ft. How "
        "many square feet of fabric is that?",
        "A radio tower reaches everyone within {r} km. How many square km does its coverage "
        "circle span?",
        "Coin face, radius {r} mm: its area in square mm?",
    ),
)
def circle_area(v: Values) -> Draft:
    r = v.float(0.5, 60, 1, key=True)
    area = round(math.pi * r**2, 2)
    return Draft(
        slots={"r": r},
        reasoning=f"Area is π r², with r = {r}.",
        code=code(
            "import math",
            "",
            f"radius = {r}",
            "area = math.pi * radius ** 2",
            "print(round(area, 2))",
        ),
        requires=("math",),
        answer=f"The circle's area is about {human(area)}.",
        expected=num(area),
    )


@template(
    "circle_circumference",
    FAMILY,
    (
        "What is the circumference of a circle with diameter {d}?",
        "A wheel has a diameter of {d} cm. How far does it roll in one full turn?",
        "How long is the circumference of a circle that is {d} across?",
        "Work out the distance around a circle with a diameter of {d}.",
        "what's the circumference if the diameter is {d}",
        "I'm bending a hoop with a diameter of {d} inches. How long a strip do I need to go all "
        "the way around?",
        "Circle, diameter {d}. Circumference?",
        "Tell me the perimeter of a circle whose diameter measures {d}.",
        "A round table is {d} cm across. How long is its edge all the way around?",
        "diameter {d} -> circumference?",
        "I'm fitting a rubber seal around a lid with a {d} mm diameter. What length of seal do I "
        "need?",
        "Please calculate how far it is around a circle whose diameter is {d}.",
        "If a circle's diameter is {d}, what's its circumference?",
        "A circular running track has a diameter of {d} meters. How long is one lap?",
        "how long is the rim of a round clock face {d} cm wide",
        "What do you get for the circumference when a circle measures {d} straight through the "
        "center?",
        "Find the circumference of a circle of diameter {d}, rounded to two decimals.",
    ),
    train_phrasings=(
        "hey, a circle has a diameter of {d}. what's the circumference?",
        "How far around is a circle whose width straight through the middle is {d}?",
        "Calculate pi times the diameter for a circle with diameter {d}.",
        "A round cake is {d} cm in diameter. How long a ribbon wraps once around its side?",
        "Circumference needed for a round pool with a diameter of {d} ft.",
        "The circular fountain in the park is {d} m across. How far is one walk around its edge?",
        "circumference, d = {d}?",
        "Please find the length of the boundary of a circle that has diameter {d}.",
        "Could you work out the circumference of a circle measuring {d} in diameter?",
        "I'm sewing trim around a round pillow {d} cm in diameter. What length of trim do I need?",
        "The tree trunk is roughly a circle with a diameter of {d} cm. What is its circumference?",
        "Given a diameter of {d}, how long is the circle's outline?",
    ),
)
def circle_circumference(v: Values) -> Draft:
    d = v.int(1, 300, key=True)
    circumference = round(2 * math.pi * (d / 2), 2)
    return Draft(
        slots={"d": d},
        reasoning=f"Circumference is π times the diameter, π × {d}.",
        code=code(
            "import math",
            "",
            f"diameter = {d}",
            "circumference = math.pi * diameter",
            "print(round(circumference, 2))",
        ),
        requires=("math",),
        answer=f"The circumference is about {human(circumference)}.",
        expected=num(circumference),
    )


@template(
    "triangle_area",
    FAMILY,
    (
        "A triangle has a base of {b} and a height of {h}. What is its area?",
        "Find the area of a triangle with base {b} cm and height {h} cm.",
        "Work out the area of a triangle whose base is {b} and height is {h}.",
        "what's the area of a triangle with base {b} and height {h}",
        "I'm cutting a triangular sail with a base of {b} ft and a height of {h} ft. How many "
        "square feet of cloth is that?",
        "Triangle: base {b}, height {h}. Area?",
        "Tell me the area of a triangle that stands {h} high on a base of {b}.",
        "Given base = {b} and height = {h}, how large is the triangle's area?",
        "tri area pls -- base {b}, height {h}",
        "Please calculate the area of a triangle if its base is {b} and its height is {h}.",
        "A triangular garden bed has a base of {b} m and a height of {h} m. How many square "
        "meters is it?",
        "How much space is inside a triangle with a {b}-unit base and a {h}-unit height?",
        "half of base times height for base {b}, height {h} -- what's the triangle's area?",
        "I need the area of a triangular pennant: base {b} cm, height {h} cm.",
        "If a triangle's base measures {b} and its height measures {h}, how big is it in area?",
        "Could you figure out the area of a triangle with a base length of {b} and a height of "
        "{h}?",
        "What area does a triangle with height {h} and base {b} enclose?",
    ),
    train_phrasings=(
        "hey, triangle with base {b} and height {h} -- area please",
        "A triangular roof gable has a base of {b} ft and rises {h} ft. How many square feet of "
        "siding covers it?",
        "Find how much area a triangle takes up if it is {h} tall with a base of {b}.",
        "area of triangle b={b} h={h}",
        "The math teacher draws a triangle with base {b} and height {h} on the board. What area "
        "should the class get?",
        "Please compute the area of a triangle having base length {b} and perpendicular height "
        "{h}.",
        "Triangular plot of land: base {b} m, height {h} m. How many square meters is the plot?",
        "How big is a triangle whose base is {b} units and whose height is {h} units, in square "
        "units?",
        "Could you tell me the area of a triangle, given a base of {b} and an altitude of {h}?",
        "Base {b}, altitude {h}: triangle area?",
        "A piece of a sign is shaped like a triangle, {b} cm across the bottom and {h} cm high. "
        "What is its area?",
        "Using area = base x height / 2, what is the area for base {b} and height {h}?",
    ),
)
def triangle_area(v: Values) -> Draft:
    b = v.int(2, 200, key=True)
    h = v.int(2, 200)
    area = float(Fraction(b * h, 2))
    return Draft(
        slots={"b": b, "h": h},
        reasoning=f"Triangle area is half of base times height: {b} × {h} / 2.",
        code=code(f"base = {b}", f"height = {h}", "area = base * height / 2", "print(area)"),
        requires=(),
        answer=f"The triangle's area is {human(area)}.",
        expected=num(area, 1),
    )


@template(
    "hypotenuse",
    FAMILY,
    (
        "A right triangle has legs {a} and {b}. How long is the hypotenuse?",
        "Find the hypotenuse of a right triangle with sides {a} and {b} around the right angle.",
        "What is the hypotenuse of a right triangle whose two legs measure {a} and {b}?",
        "Work out the length of the longest side of a right-angled triangle with legs {a} and {b}.",
        "legs {a} and {b}, right triangle -- how long's the hypotenuse?",
        "I walk {a} blocks east and then {b} blocks north. How far am I from the start in a "
        "straight line?",
        "Tell me the hypotenuse when the two shorter sides of a right triangle are {a} and {b}.",
        "Use Pythagoras: right triangle, legs {a} and {b}. Hypotenuse?",
        "right triangle, legs {a} and {b}: find c",
        "A rectangular screen is {a} inches wide and {b} inches tall. How long is its diagonal?",
        "Please compute the hypotenuse for a right triangle whose legs are {a} and {b}, to 2 "
        "decimals.",
        "If the two legs of a right-angled triangle are {a} and {b}, what is the third side?",
        "A drone flies {a} m horizontally and then climbs {b} m straight up. How far is it from "
        "where it started?",
        "how long is the hypotenuse if the legs are {a} and {b}",
        "What's sqrt({a}^2 + {b}^2), i.e. the hypotenuse of a right triangle with legs {a} and "
        "{b}?",
        "A rectangular park is {a} m by {b} m. How long is a path cutting diagonally across it?",
        "A ladder reaches {b} m up a wall with its foot {a} m from the wall. How long is it?",
    ),
    train_phrasings=(
        "hey, right triangle with legs {a} and {b}, how long is the longest side?",
        "The two sides forming the right angle are {a} and {b}. Find the hypotenuse.",
        "Pythagorean theorem: legs {a} and {b}. What is the hypotenuse to two decimals?",
        "A boat sails {a} km south and then {b} km west. How far is it in a straight line from "
        "where it began?",
        "hypotenuse for legs {a}, {b}?",
        "Please find the side opposite the right angle in a right triangle whose legs are {a} and "
        "{b}.",
        "A rectangular table top is {a} cm by {b} cm. How far is it from one corner to the "
        "opposite corner?",
        "A kite is {a} m away from my hand horizontally and {b} m above it. How long is the "
        "string if it's pulled straight?",
        "Compute c in a^2 + b^2 = c^2 with a = {a} and b = {b}.",
        "Could you tell me how long the hypotenuse is for a right-angled triangle with legs of "
        "{a} and {b}?",
        "Right angle between sides {a} and {b}. Length of the third side?",
        "In a right triangle, one leg is {a} and the other is {b}. Give the hypotenuse.",
    ),
)
def hypotenuse(v: Values) -> Draft:
    a = v.int(1, 90, key=True)
    b = v.int(1, 90)
    c = round((a * a + b * b) ** 0.5, 2)
    return Draft(
        slots={"a": a, "b": b},
        reasoning=f"By Pythagoras, c = √({a}² + {b}²).",
        code=code(
            "import math",
            "",
            f"leg_a = {a}",
            f"leg_b = {b}",
            "hypotenuse = math.sqrt(leg_a ** 2 + leg_b ** 2)",
            "print(round(hypotenuse, 2))",
        ),
        requires=("math",),
        answer=f"The hypotenuse is about {human(c)}.",
        expected=num(c),
    )


@template(
    "average_speed",
    FAMILY,
    (
        "A car travels {dist} km in {hours} hours. What is its average speed in km/h?",
        "What is the average speed of a train covering {dist} km in {hours} hours?",
        "Work out the average speed, in km/h, for a trip of {dist} km that takes {hours} hours.",
        "I drove {dist} km and it took me {hours} hours. What was my average speed in km/h?",
        "{dist} km in {hours} h -- average speed in km/h?",
        "what's the average speed in km/h if you go {dist} km in {hours} hours",
        "Tell me the mean speed (km/h) of a bus that covers {dist} km in {hours} hours.",
        "How fast on average, in km/h, is a journey of {dist} km completed in {hours} hours?",
        "avg speed in km/h for {dist} km in {hours} hours?",
        "Plane trip: {dist} km, {hours} h in the air. Speed in km/h on average?",
        "Time is {hours} hours, distance is {dist} km -- work out the km/h average.",
        "How quick were we on average in km/h? The drive was {dist} km and ate up {hours} hours.",
        "How many km per hour on average does a truck make if it needs {hours} hours for {dist} "
        "km?",
        "Mean speed in km/h needed: distance {dist} km, duration {hours} hours.",
        "Delivery van: {dist} km logged across a {hours}-hour shift. Mean km/h?",
        "what km/h did i average if the trip was {dist} km and lasted {hours} hours",
        "If a cyclist rides {dist} km over {hours} hours, what is the average speed (km/h)?",
    ),
    train_phrasings=(
        "hey, {dist} km took us {hours} hours. what's that in km/h on average?",
        "Distance over time, please: {dist} km, {hours} hours. Answer in km/h.",
        "Our family drove {dist} km to grandma's place, with snack stops, and the whole drive "
        "took {hours} hours. How many km/h was that on average?",
        "speed = distance / time, distance {dist} km, time {hours} h. km/h?",
        "Please give the average speed in kilometers per hour for {dist} km traveled in {hours} "
        "hours.",
        "How fast does the ferry go on average, in km/h, if its {dist} km crossing lasts {hours} "
        "hours?",
        "How many kilometers per hour did I average over {hours} hours if I covered {dist} km?",
        "Average km/h: {dist} km, {hours} hours.",
        "Could you work out how fast, in km/h, someone went on average when {dist} km took "
        "{hours} hours?",
        "Logbook entry: {dist} km driven, {hours} hours at the wheel. Resulting km/h average?",
        "In {hours} hours a freight train moves {dist} km. Find its average speed in km/h.",
        "Tracking data puts a migrating bird at {dist} km covered after {hours} hours. Its mean "
        "speed in kilometers per hour?",
    ),
)
def average_speed(v: Values) -> Draft:
    dist = v.int(10, 900, key=True)
    hours = v.choice((2, 3, 4, 5, 6, 8, 1.5, 2.5, 3.5, 4.5))
    speed = _round2(Fraction(dist) / Fraction(str(hours)))
    return Draft(
        slots={"dist": dist, "hours": hours},
        reasoning=f"Average speed is distance divided by time: {dist} / {hours}.",
        code=code(
            f"distance_km = {dist}",
            f"time_hours = {hours}",
            "speed = distance_km / time_hours",
            "print(round(speed, 2))",
        ),
        requires=(),
        answer=f"The average speed is {human(speed)} km/h.",
        expected=num(speed),
    )


@template(
    "simple_interest",
    FAMILY,
    (
        "How much simple interest does ${principal} earn at {rate}% per year over {years} years?",
        "Compute the simple interest on a ${principal} loan at {rate}% annually for {years} years.",
        "Work out the simple interest on ${principal} at an annual rate of {rate}% for {years} "
        "years.",
        "I'm lending a friend ${principal} at {rate}% simple interest per year. How much interest "
        "will that bring in after {years} years?",
        "what's the simple interest on ${principal} at {rate}% a year for {years} years",
        "Principal ${principal}, rate {rate}% per year, {years} years. Simple interest?",
        "Tell me how much simple interest accrues on ${principal} over {years} years at {rate}% "
        "per annum.",
        "Over {years} years, how much simple interest does ${principal} earn at a yearly rate of "
        "{rate}%?",
        "simple interest: P = ${principal}, r = {rate}%/yr, t = {years} yrs. how much interest?",
        "I borrowed ${principal} from my bank, simple interest at {rate}% annually. After {years} "
        "years, what do I owe in interest alone?",
        "Please calculate the interest only (simple, not compounded) on ${principal} at {rate}% "
        "per year for {years} years.",
        "Interest only, please: a ${principal} bond paying {rate}% simple per annum for {years} "
        "years.",
        "How much interest, using simple interest, builds up on ${principal} in {years} years at "
        "{rate}% a year?",
        "For {years} years at {rate}% per annum simple interest, what interest does a "
        "${principal} loan generate?",
        "Could you figure the simple interest for me: ${principal}, {rate}% yearly, {years} years?",
        "Family loan: my uncle charges simple interest of {rate}% annually on the ${principal} he "
        "gave me. Interest owed after {years} years?",
        "A deposit of ${principal} earns {rate}% simple interest a year. What interest does it "
        "earn in {years} years?",
    ),
    train_phrasings=(
        "hey, how much interest (simple, not compound) would ${principal} make at {rate}% per "
        "year in {years} years?",
        "Simple interest owed on ${principal} borrowed for {years} years at {rate}% a year?",
        "P = ${principal}, annual rate {rate}%, time {years} years: compute the simple interest "
        "P*r*t.",
        "Over a {years}-year car loan of ${principal}, my credit union charges {rate}% a year, "
        "simple interest. Total interest?",
        "How much interest alone, at {rate}% per year simple, does ${principal} produce in "
        "{years} years?",
        "Please determine the simple interest earned by ${principal} at a rate of {rate}% each "
        "year for {years} years.",
        "Using simple interest, what interest accumulates on ${principal} over a {years}-year "
        "term at {rate}% per year?",
        "simple int. on ${principal}, {rate}% p.a., {years} yrs",
        "Student loan check: ${principal} borrowed, simple interest at {rate}% yearly, {years} "
        "years elapsed. Interest added so far?",
        "Could you work out just the interest, using simple interest, on ${principal} at {rate}% "
        "per annum across {years} years?",
        "The teacher asks for the simple interest on ${principal} at {rate}% per year for {years} "
        "years. What's the answer?",
        "{years} years, {rate}% per annum, ${principal}: how much simple interest does the "
        "savings certificate pay?",
    ),
)
def simple_interest(v: Values) -> Draft:
    principal = v.int(100, 20000, key=True)
    rate = v.choice((1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8))
    years = v.int(1, 15)
    interest = _round2(Fraction(principal) * Fraction(str(rate)) / 100 * years)
    return Draft(
        slots={"principal": principal, "rate": rate, "years": years},
        reasoning=f"Simple interest is principal × rate × years: {principal} × {rate}% × {years}.",
        code=code(
            f"principal = {principal}",
            f"rate_percent = {rate}",
            f"years = {years}",
            "interest = principal * rate_percent / 100 * years",
            "print(round(interest, 2))",
        ),
        requires=(),
        answer=f"The simple interest is ${human(interest)}.",
        expected=num(interest),
    )


@template(
    "compound_interest",
    FAMILY,
    (
        "If you invest ${principal} at {rate}% interest compounded yearly, how much do you have "
        "after {years} years?",
        "What is ${principal} worth after {years} years at {rate}% compounded annually?",
        "Work out the future value of ${principal} invested for {years} years at {rate}% "
        "compounded annually.",
        "I'm putting ${principal} into an account paying {rate}% a year, compounded yearly. How "
        "much will be there after {years} years?",
        "${principal} at {rate}% compound interest (yearly) for {years} years -- final amount?",
        "how much does ${principal} grow to in {years} years with {rate}% annual compounding",
        "Tell me the total after {years} years if ${principal} earns {rate}% interest compounded "
        "once a year.",
        "Starting with ${principal} and {rate}% annual compound interest, what is the total after "
        "{years} years?",
        "annual compounding: ${principal} at {rate}% for {years} years. final value?",
        "My parents put ${principal} in a college fund at {rate}% compounded annually. What will "
        "it be worth in {years} years?",
        "Final total please -- ${principal} invested for {years} years, {rate}% interest "
        "compounded annually.",
        "Please calculate the amount after {years} years of yearly compounding at {rate}% on an "
        "initial ${principal}.",
        "what's the end value of ${principal} after {years} years at {rate}% compounded every year",
        "An investment of ${principal} returns {rate}% a year, with interest reinvested annually. "
        "How much is it after {years} years?",
        "If ${principal} compounds annually at {rate}%, what total do you have at the end of "
        "{years} years?",
        "Could you figure out principal plus interest for ${principal} at {rate}% compounded "
        "yearly over {years} years?",
        "Compute the balance of ${principal} growing at {rate}% per year, compounded, for "
        "{years} years.",
    ),
    train_phrasings=(
        "hey, if I drop ${principal} into an account with {rate}% interest compounded annually, "
        "what's the balance after {years} years?",
        "My ${principal} nest egg earns {rate}% a year, with the interest added to it once a "
        "year. Value in {years} years' time?",
        "Each year a savings bond adds {rate}% to its value, compounding annually. Starting at "
        "${principal}, what is it worth (principal included) after {years} years?",
        "How much money is in the account after {years} years if ${principal} earns {rate}% "
        "interest, compounded once per year?",
        "compound annually: ${principal}, {rate}%, {years} yrs -> total amount?",
        "My grandmother invested ${principal} at {rate}% interest compounded annually {years} "
        "years ago. What is it worth today?",
        "Please compute ${principal} times (1 + {rate}/100) to the power {years}, the amount "
        "after yearly compounding.",
        "Give the total value, interest included, of ${principal} left for {years} years at an "
        "annual compound rate of {rate}%.",
        "What does a ${principal} deposit become after {years} years of {rate}% interest "
        "compounded yearly?",
        "After {years} years of annual compounding at {rate}%, what will a starting sum of "
        "${principal} be?",
        "A retirement account starts at ${principal} and earns {rate}% a year compounded "
        "annually, with no further deposits. How much is in it after {years} years?",
        "With annual compounding at {rate}%, how much will ${principal} have grown into by the "
        "end of year {years}?",
    ),
)
def compound_interest(v: Values) -> Draft:
    principal = v.int(100, 20000, key=True)
    rate = v.choice((2, 3, 4, 5, 6, 7, 8, 10))
    years = v.int(2, 20)
    balance = Fraction(principal)
    for _ in range(years):
        balance += balance * rate / 100
    balance_r = _round2(balance)
    return Draft(
        slots={"principal": principal, "rate": rate, "years": years},
        reasoning=f"Each year the balance grows by {rate}%, so it is "
        f"{principal} × (1 + {rate}/100)^{years}.",
        code=code(
            f"principal = {principal}",
            f"rate = {rate} / 100",
            f"years = {years}",
            "balance = principal * (1 + rate) ** years",
            "print(round(balance, 2))",
        ),
        requires=(),
        answer=f"After {years} years the balance is ${human(balance_r)}.",
        expected=num(balance_r),
    )


@template(
    "cylinder_volume",
    FAMILY,
    (
        "What is the volume of a cylinder with radius {r} and height {h}?",
        "A cylindrical tank has a radius of {r} m and a height of {h} m. What is its volume?",
        "Work out the volume of a cylinder that has a radius of {r} and a height of {h}.",
        "what's the volume of a cylinder, radius {r}, height {h}",
        "I have a cylindrical planter {h} inches tall with a radius of {r} inches. How much soil "
        "does it hold, in cubic inches?",
        "Cylinder: r = {r}, h = {h}. Volume?",
        "Tell me how much space is inside a cylinder with height {h} and radius {r}.",
        "How large is the volume of a cylinder whose base radius is {r} and whose height is {h}?",
        "volume of cylinder w/ r={r} and h={h}?",
        "A cylindrical swimming pool has a radius of {r} ft and a depth of {h} ft. How many cubic "
        "feet of water fill it?",
        "Please compute pi r squared h for a cylinder with radius {r} and height {h}.",
        "How much does a cylindrical silo hold if it is {h} m high and has a radius of {r} m? "
        "Give cubic meters.",
        "If a cylinder's radius is {r} and its height is {h}, what's the volume?",
        "I need the capacity of a cylindrical column, radius {r}, height {h}.",
        "what volume do you get for a cylinder {h} high with a base radius of {r}",
        "A pillar candle is a cylinder with radius {r} in and height {h} in. How many cubic "
        "inches of wax does it contain?",
        "Find the volume of a can that is {h} cm tall with a {r} cm radius.",
    ),
    train_phrasings=(
        "hey, cylinder with radius {r} and height {h} -- how much volume?",
        "A water tank shaped like a cylinder is {h} m tall with a {r} m radius. How many cubic "
        "meters does it hold?",
        "Find the volume enclosed by a right circular cylinder of radius {r} and height {h}.",
        "cyl vol, radius {r}, height {h}",
        "How many cubic centimeters fit in a cylindrical glass with a radius of {r} cm and a "
        "height of {h} cm?",
        "Please determine the volume of a cylinder {h} units tall whose circular base has radius "
        "{r} units.",
        "A round cake pan has a radius of {r} cm and sides {h} cm high. What volume of batter "
        "fills it to the brim, in cubic cm?",
        "Base area times height: what is it for a cylinder of radius {r} and height {h}?",
        "Could you tell me the volume of a cylinder if the radius equals {r} and the height "
        "equals {h}?",
        "A rain barrel is a cylinder {h} inches high with a radius of {r} inches. What is its "
        "volume in cubic inches?",
        "What volume does a cylinder occupy with a height of {h} and a radius of {r}?",
        "The lab's measuring cylinder has an inner radius of {r} cm and a height of {h} cm. What "
        "is its volume in cubic cm?",
    ),
)
def cylinder_volume(v: Values) -> Draft:
    r = v.int(1, 40, key=True)
    h = v.int(1, 80)
    volume = round(math.pi * r * r * h, 2)
    return Draft(
        slots={"r": r, "h": h},
        reasoning=f"Cylinder volume is π r² h = π × {r}² × {h}.",
        code=code(
            "import math",
            "",
            f"radius = {r}",
            f"height = {h}",
            "volume = math.pi * radius ** 2 * height",
            "print(round(volume, 2))",
        ),
        requires=("math",),
        answer=f"The cylinder's volume is about {human(volume)}.",
        expected=num(volume),
    )


@template(
    "ratio_split",
    FAMILY,
    (
        "Split {total} in the ratio {a}:{b}. How large is the first part?",
        "{total} coins are shared between two friends in the ratio {a}:{b}. How many does the "
        "first friend get?",
        "If {total} is divided in the ratio {a}:{b}, what is the first share?",
        "Work out the first part when {total} is split {a}:{b}.",
        "Two partners split a profit of {total} dollars in the ratio {a}:{b}. How much does the "
        "first partner receive?",
        "{total} shared {a}:{b} -- how big is the first portion?",
        "tell me the first part if you split {total} in a {a}:{b} ratio",
        "I'm mixing {total} ml of juice and water in the ratio {a}:{b}, juice first. How many ml "
        "of juice do I need?",
        "An inheritance of ${total} is split between two siblings {a}:{b}, older sibling first. "
        "How much does the older one get?",
        "ratio {a}:{b}, total {total}. first share?",
        "Please share {total} between A and B in the ratio {a}:{b}. What does A get?",
        "A recipe uses flour and sugar in a {a}:{b} ratio by weight. For {total} grams in total, "
        "how much flour is needed?",
        "In a class of {total} students, the ratio of girls to boys is {a}:{b}. How many girls "
        "are there?",
        "how much is the first share when {total} gets split {a}:{b}",
        "Allocate {total} hours between two projects at a ratio of {a}:{b}. How many hours go to "
        "the first project?",
        "What does the first party receive from a {a}:{b} split of {total}?",
        "Divide {total} into two parts in the ratio {a} to {b}; what is the first part?",
    ),
    train_phrasings=(
        "hey, my roommate and I split {total} in a {a}:{b} ratio, my part being the first number. "
        "what's my share?",
        "Using a {a}:{b} sharing rule, how much of {total} goes to the first recipient?",
        "Marbles: {total} of them, shared between two cousins {a}:{b}. The first cousin's count?",
        "A teacher splits {total} stickers between two groups in the ratio {a}:{b}. How many "
        "stickers does the first group get?",
        "first share of {total} in ratio {a}:{b}?",
        "Please find the size of the first part when {total} is shared in the proportion {a}:{b}.",
        "Paint is mixed blue to white in the ratio {a}:{b}. How many liters of blue are in "
        "{total} liters of the mix?",
        "A {total}-acre farm is divided between corn and wheat in the ratio {a}:{b}. How many "
        "acres are corn?",
        "Could you tell me the first portion if {total} is broken into two parts in the ratio "
        "{a}:{b}?",
        "Two candidates got {total} votes between them, at a {a}:{b} ratio. How many votes went "
        "to the first one?",
        "Out of {total}, the first group takes {a} shares for every {b} shares the second takes. "
        "How large is the first group's amount?",
        "A shop's {total} dollars of daily takings is split between rent and wages at {a}:{b}. "
        "How much goes to rent?",
    ),
)
def ratio_split(v: Values) -> Draft:
    a = v.int(1, 9)
    b = v.int(1, 9)
    unit = v.int(2, 120, key=True)
    total = unit * (a + b)
    first = unit * a
    return Draft(
        slots={"total": total, "a": a, "b": b},
        reasoning=f"There are {a} + {b} = {a + b} shares; the first part is {a} of them.",
        code=code(
            f"total = {total}",
            f"share_a = {a}",
            f"share_b = {b}",
            "first_part = total * share_a // (share_a + share_b)",
            "print(first_part)",
        ),
        requires=(),
        answer=f"The first part is {human(first)}.",
        expected=num(first),
    )


@template(
    "boxes_needed",
    FAMILY,
    (
        "Each box holds {size} items. How many boxes are needed for {count} items?",
        "You must pack {count} books into crates of {size}. How many crates do you need?",
        "How many boxes do I need to pack {count} items if each box fits {size}?",
        "Work out the number of boxes needed to hold {count} items when every box takes {size}.",
        "{count} items, {size} per box -- how many boxes?",
        "I'm shipping {count} jars and each carton holds {size}. How many cartons should I order?",
        "what's the minimum number of boxes of {size} needed for {count} items",
        "Tell me how many containers holding {size} each it takes to fit all {count} items.",
        "I have {count} cupcakes and each tray takes {size}. How many trays do I need?",
        "{count} photos, pages hold {size} each -- how many album pages?",
        "Please work out how many bags are required if {count} apples go {size} to a bag.",
        "A warehouse must store {count} parts in bins holding {size} each. What's the fewest bins "
        "that will do?",
        "How many shelves do I need for {count} books if each shelf fits {size}?",
        "packing {count} items, {size} fit in one box. number of boxes needed (round up)?",
        "If every crate holds at most {size} bottles, how many crates does it take to ship "
        "{count} bottles?",
        "We're handing out {count} flyers in bundles of {size}. How many bundles will there be, "
        "counting a partial one?",
        "How many buses with {size} seats are needed to carry {count} people?",
    ),
    train_phrasings=(
        "hey, {count} items and each box fits {size}. how many boxes do I need, counting a partly "
        "full one?",
        "A school trip has {count} students and each van seats {size}. How many vans are needed?",
        "Eggs come in cartons of {size}. To store {count} eggs, how many cartons are required?",
        "Packing {count} mugs, with room for {size} in each box. How many boxes must I get?",
        "Please find the smallest number of containers, each holding {size}, that can hold "
        "{count} items.",
        "boxes needed: {count} items at {size} per box, rounding up",
        "A librarian has {count} books to move and each cart holds {size}. How many carts does "
        "she need to move them all at once?",
        "Our factory ships {count} widgets in cases of {size}. How many cases do we need, "
        "including one that isn't full?",
        "Could you tell me how many boxes I need if I have {count} things and only {size} fit per "
        "box?",
        "The conference expects {count} guests and each table seats {size}. How many tables "
        "should we set up?",
        "What's the least number of {size}-slot trays that will hold {count} seedlings?",
        "A moving company loads {count} boxes onto trucks that carry {size} boxes each. How many "
        "trucks are needed?",
    ),
)
def boxes_needed(v: Values) -> Draft:
    size = v.int(3, 60)
    count = v.int(10, 3000, key=True)
    boxes = -(-count // size)
    return Draft(
        slots={"size": size, "count": count},
        reasoning=f"Divide {count} by {size} and round up, since a partly filled box still counts.",
        code=code(
            "import math",
            "",
            f"items = {count}",
            f"per_box = {size}",
            "boxes = math.ceil(items / per_box)",
            "print(boxes)",
        ),
        requires=("math",),
        answer=f"{human(boxes)} containers of {size} are needed for {count} items.",
        expected=num(boxes),
    )


@template(
    "unit_conversion",
    FAMILY,
    (
        "Convert {value} {src} to {dst}.",
        "How many {dst} are in {value} {src}?",
        "What is {value} {src} in {dst}?",
        "Change {value} {src} into {dst}.",
        "{value} {src} = how many {dst}?",
        "I have a measurement of {value} {src}. What is that in {dst}?",
        "what does {value} {src} come to in {dst}",
        "Tell me the equivalent of {value} {src} in {dst}.",
        "need this in {dst}: {value} {src}",
        "Could you help me with a conversion? I've got {value} {src} and need {dst}.",
        "what do i get in {dst} for {value} {src}",
        "A label lists {value} {src}, but I think in {dst}. What's the conversion?",
        "Turn {value} {src} into {dst}, rounded to two decimals.",
        "If something measures {value} {src}, how much is that in {dst}?",
        "The sign says {value} {src}. How many {dst} would that be?",
        "My notes say {value} {src}, but the form asks for {dst}. What number do I write?",
        "Express {value} {src} in {dst}.",
    ),
    train_phrasings=(
        "hey quick conversion, {value} {src} to {dst} please",
        "On my trip I noted {value} {src}. How much is that when measured in {dst}?",
        "My spreadsheet column is in {src} and the value is {value}. What should the {dst} column "
        "show?",
        "I'd like the {dst} figure for a quantity of {value} {src}.",
        "{src} -> {dst}: {value}, to 2 decimal places",
        "Could you tell me how much {value} {src} is when written in {dst}?",
        "Find the number of {dst} equal to {value} {src}.",
        "The lab report gives {value} {src}, but the journal wants {dst}. What's the value in "
        "{dst}?",
        "convert from {src} to {dst}: {value}",
        "What do {value} {src} amount to in {dst}, rounded to 2 decimal places?",
        "A friend abroad asked how much {value} {src} is in {dst}. What should I tell them?",
        "Going from {src} to {dst}, what does {value} become?",
    ),
)
def unit_conversion(v: Values) -> Draft:
    src, dst, factor = v.choice(
        (
            ("kilometers", "miles", Fraction(1000, 1609344) * 1000),
            ("miles", "kilometers", Fraction(1609344, 1000000)),
            ("pounds", "kilograms", Fraction(45359237, 100000000)),
            ("kilograms", "pounds", Fraction(100000000, 45359237)),
            ("inches", "centimeters", Fraction(254, 100)),
            ("feet", "meters", Fraction(3048, 10000)),
            ("gallons", "liters", Fraction(3785411784, 1000000000)),
        )
    )
    value = v.int(1, 500, key=True)
    result = _round2(value * factor)
    return Draft(
        slots={"value": value, "src": src, "dst": dst},
        reasoning=f"Multiply {value} {src} by the conversion factor from {src} to {dst}.",
        code=code(
            f"{src} = {value}",
            f"{dst}_per_{src[:-1]} = {float(factor)!r}",
            f"{dst} = {src} * {dst}_per_{src[:-1]}",
            f"print(round({dst}, 2))",
        ),
        requires=(),
        answer=f"{value} {src} is about {human(result)} {dst}.",
        expected=num(result),
    )
