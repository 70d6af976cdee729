"""Family "advanced_math": trigonometry, linear algebra and number theory.

Programs use `math`, `fractions` and plain lists; the generator computes the expected answer
by another route where one exists (trial division for primes against the program's loop,
Euclid by hand against `math.gcd`, exact fractions for linear systems). No numpy: the
sandbox's allowed modules are the standard library's.
Not covered: calculus and symbolic algebra.
"""

from __future__ import annotations

import math

from worldmodel.data.templates.base import Draft, Values, code, human, num, template

FAMILY = "advanced_math"


def _euclid(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _factor(n: int) -> list[int]:
    factors, p = [], 2
    while p * p <= n:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    if n > 1:
        factors.append(n)
    return factors


@template(
    "gcd",
    FAMILY,
    (
        "What is the greatest common divisor of {a} and {b}?",
        "Find gcd({a}, {b}).",
        "gcd of {a} and {b}?",
        "Work out the greatest common divisor of {a} and {b}.",
        "I'm reducing a fraction and need the GCD of {a} and {b}. What is it?",
        "{a} and {b}: what is their greatest common factor?",
        "tell me the highest common factor of {a} and {b}",
        "Calculate the GCD of the two numbers {a} and {b}.",
        "gcd({a}, {b}) = ?",
        "Could you please find the greatest common divisor of {a} and {b}?",
        "need the gcd for {a}, {b}",
        "Using Euclid's algorithm, what is the GCD of {a} and {b}?",
        "Two gears have {a} and {b} teeth. What is the GCD of those tooth counts?",
        "Determine GCD({a}, {b}).",
        "greatest common divisor, {a} and {b}, please",
        "Quick one: what's the HCF of {a} and {b}?",
        "What is the largest number that divides both {a} and {b}?",
    ),
    train_phrasings=(
        "hey so i've got {a} and {b}, whats their gcd",
        "Greatest common divisor please: {a}, {b}.",
        "My teacher wants the GCD of {a} and {b} on the board. Can you work it out?",
        "HCF({a}, {b})?",
        "Take the numbers {a} and {b}. Which largest integer divides each of them exactly?",
        "I'm tiling a floor that is {a} cm by {b} cm with identical square tiles and no cutting. "
        "What is the GCD of {a} and {b}, the largest tile side I can use?",
        "compute the greatest common factor for {a} and {b}",
        "Return the gcd of the pair ({a}, {b}).",
        "Among the shared divisors of {a} and {b}, tell me the top one.",
        "Before I simplify {a}/{b}, which common divisor of the two is the greatest?",
        "What does math.gcd({a}, {b}) give?",
        "Find the highest common divisor shared by {a} and {b}, please.",
    ),
)
def gcd(v: Values) -> Draft:
    common = v.int(1, 60)
    a = common * v.int(2, 90, key=True)
    b = common * v.int(2, 90)
    result = _euclid(a, b)
    return Draft(
        slots={"a": a, "b": b},
        reasoning="math.gcd applies Euclid's algorithm.",
        code=code("import math", "", f"a = {a}", f"b = {b}", "print(math.gcd(a, b))"),
        requires=("math",),
        answer=f"The greatest common divisor of {a} and {b} is {result}.",
        expected=str(result),
    )


@template(
    "lcm",
    FAMILY,
    (
        "What is the least common multiple of {a} and {b}?",
        "Find lcm({a}, {b}).",
        "lcm of {a} and {b}?",
        "Work out the lowest common multiple of {a} and {b}.",
        "I'm adding fractions with denominators {a} and {b}. What is their least common multiple?",
        "{a} and {b}: what's the LCM?",
        "tell me the least common multiple of {a} and {b}",
        "Calculate the LCM of the integers {a} and {b}.",
        "lcm({a}, {b}) = ?",
        "Could you compute the LCM of {a} and {b} for me?",
        "Two buses leave the depot together, one every {a} minutes and the other every {b} "
        "minutes. After how many minutes do they next leave together?",
        "need the least common multiple for {a}, {b}",
        "Determine LCM({a}, {b}).",
        "Given {a} and {b}, find their least common multiple.",
        "Quick question: what's the lowest common multiple of {a} & {b}?",
        "least common multiple of {a} and {b} please",
        "What is the smallest positive number divisible by both {a} and {b}?",
    ),
    train_phrasings=(
        "hey so i've got {a} and {b}, whats their lcm",
        "Least common multiple please: {a}, {b}.",
        "LCM please -> {a}, {b}",
        "One light blinks every {a} seconds and another every {b} seconds. They just blinked "
        "together; how many seconds until they blink together again?",
        "Counting up in steps of {a} and in steps of {b}, which number do both counts hit first?",
        "I want the least common multiple; the inputs are {a} and {b}",
        "Return the lcm of the pair ({a}, {b}).",
        "What common multiple of {a} and {b} is the smallest positive one?",
        "My spreadsheet needs the least common multiple of {a} and {b}. Can you find it?",
        "Hot dogs come in packs of {a} and buns in packs of {b}. What is the smallest number of "
        "hot dogs I can buy in whole packs and match exactly with whole packs of buns?",
        "Please determine the least common multiple of the numbers {a} and {b}.",
        "lowest common multiple, {a} & {b}?",
    ),
)
def lcm(v: Values) -> Draft:
    a = v.int(2, 150, key=True)
    b = v.int(2, 150)
    result = a * b // _euclid(a, b)
    return Draft(
        slots={"a": a, "b": b},
        reasoning="lcm(a, b) = a × b / gcd(a, b).",
        code=code("import math", "", f"a = {a}", f"b = {b}", "print(a * b // math.gcd(a, b))"),
        requires=("math",),
        answer=f"The least common multiple of {a} and {b} is {result}.",
        expected=str(result),
    )


@template(
    "is_prime",
    FAMILY,
    (
        "Is {n} a prime number?",
        "Determine whether {n} is prime (True or False).",
        "is {n} prime?",
        "Tell me whether {n} is a prime (answer True or False).",
        "Prime or not: {n}?",
        "I need to know if the number {n} is prime. Is it?",
        "Test {n} for primality.",
        "Decide whether or not {n} is a prime number.",
        "{n} - prime? True/False",
        "Could you tell me if {n} is a prime? Reply True or False.",
        "Is it true that {n} is prime?",
        "My code needs a primality check: is {n} prime?",
        "True or False: {n} is a prime number.",
        "quick primality check on {n} please",
        "Would {n} count as a prime number?",
        "Given the integer {n}, return True if it is prime and False otherwise.",
        "Check if {n} has no divisors other than 1 and itself.",
    ),
    train_phrasings=(
        "hey, quick True/False for me: is {n} a prime?",
        "Primality of {n}: True or False?",
        "Does {n} have exactly two positive divisors, 1 and itself? Answer True or False.",
        "My teacher says {n} is prime. Is she right?",
        "Answer True if {n} is a prime number, False if it is not.",
        "is the number {n} a prime",
        "Check the number {n}: prime (True) or not prime (False)?",
        "Can {n} be divided evenly only by 1 and itself?",
        "For a cryptography toy example I picked {n}. Is that a prime?",
        "Please verify whether {n} is prime and reply with True or False.",
        "Is {n} one of the prime numbers?",
        "{n} is prime: yes (True) or no (False)?",
    ),
)
def is_prime(v: Values) -> Draft:
    n = v.int(2, 20000, key=True)
    prime = _factor(n) == [n]
    return Draft(
        slots={"n": n},
        reasoning=f"Try every divisor from 2 up to √{n}; if none divides it, it is prime.",
        code=code(
            "import math",
            "",
            f"n = {n}",
            "is_prime = n > 1 and all(n % d != 0 for d in range(2, math.isqrt(n) + 1))",
            "print(is_prime)",
        ),
        requires=("math",),
        answer=f"{n} {'is' if prime else 'is not'} prime.",
        expected=str(prime),
        check="exact",
    )


@template(
    "prime_factors",
    FAMILY,
    (
        "What is the prime factorization of {n}?",
        "List the prime factors of {n} with repetition, smallest first.",
        "prime factorization of {n}?",
        "Break {n} down into its prime factors, smallest first, repeating any that occur more "
        "than once.",
        "Give me the prime factors of {n}, including repeated ones, in increasing order.",
        "I'm simplifying a square root and need {n} written as a product of primes. Which primes?",
        "{n}: which primes multiply together to give it (with multiplicity)?",
        "Work out the prime decomposition of {n}.",
        "prime factors of {n}, with repeats, ascending?",
        "Could you write {n} as a product of prime numbers, listing them from smallest to largest?",
        "What primes, counted with multiplicity, make up {n}?",
        "I need the complete prime factorisation of {n} for homework - list every prime, "
        "smallest first.",
        "Decompose {n} into its prime factors (include repeats).",
        "Express {n} as a product of primes.",
        "show the prime factorization of {n} as a sorted list",
        "Please list all prime factors of {n} in ascending order, keeping duplicates.",
        "Factor {n} into primes.",
    ),
    train_phrasings=(
        "hey, can you split {n} into primes? list them smallest first, repeats included",
        "Prime factors of {n} (with multiplicity, ascending order), please.",
        "Write out every prime that divides {n}, as many times as it divides, from smallest to "
        "largest.",
        "Factorise {n} completely into primes and list the factors in ascending order, "
        "repeating any that appear more than once.",
        "{n} = product of which primes? Sorted, duplicates kept.",
        "Our maths club is factoring numbers. What are the prime factors of {n}, listed "
        "smallest to largest with repetition?",
        "Return the sorted list of prime factors of {n}, including duplicates.",
        "Which primes, in increasing order and with repeats, multiply to {n}?",
        "I need {n} broken into its prime factors for a fraction problem. List them all, "
        "smallest first.",
        "give the full prime factorisation of {n} as an ascending list with repeats",
        "Please find every prime factor of {n}, counted with multiplicity, in non-decreasing "
        "order.",
        "What list of primes (smallest first, repeated as needed) has a product of {n}?",
    ),
)
def prime_factors(v: Values) -> Draft:
    n = v.int(4, 50000, key=True)
    factors = _factor(n)
    return Draft(
        slots={"n": n},
        reasoning="Divide out each factor starting from 2 while it divides the number.",
        code=code(
            f"n = {n}",
            "factors = []",
            "divisor = 2",
            "while divisor * divisor <= n:",
            "    while n % divisor == 0:",
            "        factors.append(divisor)",
            "        n //= divisor",
            "    divisor += 1",
            "if n > 1:",
            "    factors.append(n)",
            "print(factors)",
        ),
        requires=(),
        answer=f"{n} = {' × '.join(str(f) for f in factors)}.",
        expected=str(factors),
        check="exact",
    )


@template(
    "fibonacci",
    FAMILY,
    (
        "What is the {n}th Fibonacci number (F(1) = F(2) = 1)?",
        "Compute Fibonacci number F({n}), with F(1) = 1 and F(2) = 1.",
        "fibonacci number {n}? (F(1) = 1, F(2) = 1)",
        "Work out F({n}) in the Fibonacci sequence where F(1) = F(2) = 1.",
        "Tell me the Fibonacci number at position {n}, counting F(1) = 1 and F(2) = 1.",
        "With F(1) = 1, F(2) = 1 and F(k) = F(k-1) + F(k-2), find F({n}).",
        "I'm testing a recursive function and need F({n}), using F(1) = F(2) = 1. What is it?",
        "F({n}) = ? (Fibonacci, F(1) = F(2) = 1)",
        "fib({n}) with fib(1) = fib(2) = 1?",
        "Could you give me the {n}th Fibonacci number? Use F(1) = F(2) = 1.",
        "Fibonacci: F(1) = 1, F(2) = 1, and each next value is the sum of the previous two. Find "
        "F({n}).",
        "Using the convention F(1) = F(2) = 1, what does F({n}) equal?",
        "My Fibonacci function returns 1 for inputs 1 and 2. What should it return for {n}?",
        "calc F({n}), fibonacci, F(1)=F(2)=1",
        "Please evaluate the Fibonacci number F({n}), indexing so that F(1) and F(2) are both 1.",
        "In the Fibonacci sequence indexed with F(1) = F(2) = 1, which value sits at index {n}?",
        "Starting 1, 1, 2, 3, 5, ..., what is term number {n}?",
    ),
    train_phrasings=(
        "hey, what's fibonacci #{n}? start with F(1) = 1 and F(2) = 1",
        "The Fibonacci numbers start F(1) = 1, F(2) = 1, and every later one adds the two before "
        "it. What is F({n})?",
        "Give me F({n}), where F is the Fibonacci sequence with F(1) = F(2) = 1.",
        "Fibonacci, indexed from F(1) = 1 and F(2) = 1: value at position {n}?",
        "Our class is listing Fibonacci numbers, beginning F(1) = 1, F(2) = 1. Which number "
        "is F({n})?",
        "find the {n}th fibonacci number if the first two are both 1",
        "Return fib({n}), defining fib(1) = 1, fib(2) = 1, fib(k) = fib(k-1) + fib(k-2).",
        "Please compute the Fibonacci term F({n}), taking F(1) and F(2) to be 1.",
        "If F(1) = 1 and F(2) = 1 and each term is the sum of the two preceding terms, how "
        "big is F({n})?",
        "A rabbit-breeding puzzle follows the Fibonacci rule with F(1) = F(2) = 1. What is F({n})?",
        "F(1)=1, F(2)=1, F(k)=F(k-1)+F(k-2). F({n})?",
        "What value does the Fibonacci sequence reach at index {n}, with F(1) = F(2) = 1?",
    ),
)
def fibonacci(v: Values) -> Draft:
    n = v.int(3, 90, key=True)
    a, b = 1, 1
    for _ in range(n - 2):
        a, b = b, a + b
    return Draft(
        slots={"n": n},
        reasoning="Iterate: keep the last two terms and add them to get the next.",
        code=code(
            f"n = {n}",
            "previous, current = 1, 1",
            "for _ in range(n - 2):",
            "    previous, current = current, previous + current",
            "print(current)",
        ),
        requires=(),
        answer=f"F({n}) is {b:,}.",
        expected=str(b),
    )


@template(
    "modular_power",
    FAMILY,
    (
        "What is {a}^{b} mod {m}?",
        "Compute {a} to the power {b}, modulo {m}.",
        "{a}^{b} mod {m} = ?",
        "Calculate pow({a}, {b}, {m}).",
        "Work out {a} raised to the power of {b}, reduced modulo {m}.",
        "what's {a}**{b} % {m}",
        "For a cryptography exercise I need {a}^{b} modulo {m}. What do I get?",
        "Evaluate {a}^{b} (mod {m}).",
        "{a}**{b} modulo {m}?",
        "Could you compute {a}^{b} mod {m} for me?",
        "Using fast modular exponentiation, evaluate {a}^{b} modulo {m}.",
        "I'm checking a Diffie-Hellman step: base {a}, exponent {b}, modulus {m}. What's the "
        "result?",
        "What does {a} to the power of {b} reduce to modulo {m}?",
        "mod {m}: {a}^{b} = ?",
        "Raise {a} to the exponent {b} and reduce the result mod {m}.",
        "Determine the value of {a}^{b} in arithmetic modulo {m}.",
        "Find the remainder when {a}^{b} is divided by {m}.",
    ),
    train_phrasings=(
        "hey quick one, {a} to the {b} but only the remainder mod {m}",
        "Modular exponentiation: base {a}, exponent {b}, modulus {m}. Result?",
        "Return ({a} ** {b}) % {m}.",
        "Raise {a} to the power {b}, then give the remainder modulo {m}.",
        "In my number theory class we need {a}^{b} reduced mod {m}. What is it?",
        "exponent {b} on base {a}, all mod {m} - result?",
        "Working modulo {m}, what is {a} raised to the {b}?",
        "Please reduce {a}^{b} modulo {m} and tell me the result.",
        "Start from 1 and multiply by {a}, {b} times over, reducing mod {m} after each step. "
        "What number do you end with?",
        "Base {a}, exponent {b}: reduce it mod {m}.",
        "Tell me the value of {a}^{b} modulo {m}, between 0 and {m} - 1.",
        "If you take {a} to the {b}th power and divide by {m}, what's left over?",
    ),
)
def modular_power(v: Values) -> Draft:
    a = v.int(2, 99, key=True)
    b = v.int(10, 500)
    m = v.int(7, 997)
    result = 1
    for _ in range(b):
        result = result * a % m
    return Draft(
        slots={"a": a, "b": b, "m": m},
        reasoning="Python's three-argument pow does modular exponentiation efficiently.",
        code=code(
            f"base = {a}",
            f"exponent = {b}",
            f"modulus = {m}",
            "print(pow(base, exponent, modulus))",
        ),
        requires=(),
        answer=f"{a}^{b} mod {m} is {result}.",
        expected=str(result),
    )


@template(
    "sine_degrees",
    FAMILY,
    (
        "What is sin({deg}°)? Round to 4 decimals.",
        "Compute the sine of {deg} degrees to four decimal places.",
        "sin({deg} degrees) to 4 decimal places?",
        "Tell me the sine of {deg}°, rounded to 4 decimals.",
        "Work out sin {deg}° (the angle is in degrees, not radians) to four decimal places.",
        "An angle measures {deg} degrees. What is its sine, to 4 decimal places?",
        "whats sin of {deg} deg, 4 dp",
        "Find the value of sin({deg}°), rounding to four decimals.",
        "sin {deg}° = ? (4 d.p.)",
        "Could you give me the sine of {deg}°, rounded to four decimal places?",
        "For my physics homework I need sin({deg}°) rounded to 4 decimal places.",
        "math.sin of {deg} degrees, rounded to 4 places?",
        "Give sine({deg}°) correct to four decimals.",
        "what is the sine of {deg}° to 4dp",
        "Please calculate sin({deg}°) and round the result to 4 decimal places.",
        "Using degree mode on a calculator, what does sin {deg} show, rounded to 4 decimals?",
        "Evaluate sin of an angle of {deg} degrees (4 decimals).",
    ),
    train_phrasings=(
        "hey so my calculator's broken, can you do sin {deg} degrees for me? 4 dp",
        "angle {deg}°, need the sine, rounded 4 places",
        "Return sin({deg}°) rounded to 4 decimal places.",
        "The angle is {deg}° (degrees). Give its sine to 4 d.p.",
        "Our surveyor measured an angle of {deg} degrees. What is the sine of it, rounded to "
        "four decimal places?",
        "sin({deg} deg) = ? round to 4 places",
        "Convert {deg} degrees to radians, take the sine, and round to 4 decimals.",
        "To four decimal places, what is the sine of {deg}°?",
        "Lab notebook entry: angle = {deg}°. Record the sine of it, rounded to 4 decimals.",
        "Degrees, not radians: sin({deg}) to 4 d.p.",
        "To 4 decimal places, how big is the sine when the angle is {deg}°?",
        "I'm plotting a wave and need sin({deg}°) to 4 decimal places. What is it?",
    ),
)
def sine_degrees(v: Values) -> Draft:
    deg = v.int(1, 359, key=True)
    result = round(math.sin(deg * math.pi / 180), 4)
    return Draft(
        slots={"deg": deg},
        reasoning="Convert degrees to radians, then take math.sin.",
        code=code(
            "import math",
            "",
            f"angle_degrees = {deg}",
            "print(round(math.sin(math.radians(angle_degrees)), 4))",
        ),
        requires=("math",),
        answer=f"sin({deg}°) is about {result}.",
        expected=num(result + 0.0, 4),
    )


@template(
    "cosine_degrees",
    FAMILY,
    (
        "What is cos({deg}°), rounded to 4 decimals?",
        "Compute the cosine of {deg} degrees.",
        "cos({deg} degrees) to 4 decimal places?",
        "Tell me the cosine of {deg}°, rounded to 4 decimals.",
        "Work out cos {deg}° (degrees, not radians), giving four decimal places.",
        "An angle measures {deg} degrees. What is its cosine, to 4 decimal places?",
        "whats cos of {deg} deg, 4 dp",
        "Find the value of cos({deg}°) to four decimals.",
        "cos {deg}° = ? (4 d.p.)",
        "Could you give me the cosine of a {deg}° angle, rounded to 4 decimals?",
        "For a physics problem I need cos({deg}°). Round it to 4 decimal places please.",
        "Using degree mode on a calculator, what does cos {deg} show, rounded to 4 decimals?",
        "Give cosine({deg}°) correct to 4 dp.",
        "what is the cosine of {deg}°, 4dp",
        "Determine cos({deg}°); round your answer to four places.",
        "A force acts at {deg}° to the x-axis. What is the cosine of that angle (4 decimals)?",
        "Evaluate cos of {deg} degrees to four decimal places.",
    ),
    train_phrasings=(
        "hey so my calculator's broken, can you do cos {deg} degrees for me? 4 dp",
        "angle {deg}°, need the cosine, rounded 4 places",
        "Return the rounded (4 d.p.) cosine for an input angle of {deg}°.",
        "The angle is {deg}° (degrees). Give its cosine to 4 d.p.",
        "Our surveyor measured an angle of {deg} degrees. What is the cosine of it, rounded to "
        "four decimal places?",
        "cos({deg} deg) = ? round to 4 places",
        "Convert {deg} degrees to radians, take the cosine, and round to 4 decimals.",
        "To four decimal places, what is the cosine of {deg}°?",
        "Lab notebook entry: angle = {deg}°. Record the cosine of it, rounded to 4 decimals.",
        "Find cos of {deg}° (in degrees), 4 d.p.",
        "To 4 decimal places, how big is the cosine when the angle is {deg}°?",
        "I'm resolving a vector and need cos({deg}°) to 4 decimal places. What is it?",
    ),
)
def cosine_degrees(v: Values) -> Draft:
    deg = v.int(1, 359, key=True)
    result = round(math.cos(deg * math.pi / 180), 4)
    return Draft(
        slots={"deg": deg},
        reasoning="Convert the angle to radians and take math.cos.",
        code=code(
            "import math",
            "",
            f"angle_degrees = {deg}",
            "print(round(math.cos(math.radians(angle_degrees)), 4))",
        ),
        requires=("math",),
        answer=f"cos({deg}°) is about {result}.",
        expected=num(result + 0.0, 4),
    )


@template(
    "angle_from_sides",
    FAMILY,
    (
        "A right triangle has opposite side {o} and adjacent side {a}. What is the angle in "
        "degrees?",
        "Find the angle (degrees, 2 decimals) whose tangent is {o}/{a}.",
        "Right triangle: opposite = {o}, adjacent = {a}. Angle in degrees?",
        "Work out the angle, in degrees to 2 decimals, of a right triangle whose opposite "
        "side is {o} and adjacent side is {a}.",
        "What is arctan({o}/{a}) expressed in degrees?",
        "In a right-angled triangle the side opposite an angle is {o} and the side adjacent "
        "to it is {a}. Find that angle in degrees.",
        "tell me the angle in degrees, given opposite {o} and adjacent {a}",
        "{o} opposite, {a} adjacent: what angle is that in degrees (2 decimals)?",
        "Right triangle, opposite {o}, adjacent {a} - angle in degrees to 2 dp?",
        "Could you find the angle (in degrees) of a right triangle where the opposite leg is {o} "
        "and the adjacent leg is {a}?",
        "tan θ = {o}/{a}. What is θ in degrees, rounded to 2 decimals?",
        "Compute atan2({o}, {a}) in degrees, to two decimal places.",
        "I've got a right-angled triangle with legs {o} (opposite) and {a} (adjacent). What's "
        "the angle in degrees?",
        "Using inverse tangent, find the angle in degrees when opposite = {o} and adjacent = {a}.",
        "A vector points {a} units along x and {o} units along y. What angle does it make with "
        "the x-axis, in degrees?",
        "Give me the angle in degrees (2 decimals) opposite a leg of {o} in a right triangle "
        "whose other leg is {a}.",
        "A ramp rises {o} m over a horizontal run of {a} m. What is its angle of incline in "
        "degrees?",
    ),
    train_phrasings=(
        "hey, legs {o} (across from the angle) and {a} (next to it), angle in degrees? 2 dp",
        "Inverse tangent of {o}/{a}, in degrees, rounded to 2 decimals?",
        "Opposite leg {o}, adjacent leg {a}. Angle (degrees, 2 d.p.)?",
        "A ladder's foot is {a} m from a wall and it reaches {o} m up the wall. What angle does "
        "it make with the ground, in degrees to 2 decimals?",
        "Return, rounded to two decimals, the degree measure of the angle that has opposite "
        "side {o} and adjacent side {a} in a right triangle.",
        "Please compute the acute angle with opposite side {o} and adjacent side {a}, giving "
        "degrees to 2 decimal places.",
        "In degrees (2 dp), which angle has tangent equal to {o} divided by {a}?",
        "My trig homework: opposite = {o}, adjacent = {a}. Find the angle in degrees, 2 decimals.",
        "atan({o} / {a}) converted to degrees and rounded to 2 places?",
        "A right triangle's legs are {o} opposite and {a} adjacent to angle A. How big is A in "
        "degrees (two decimals)?",
        "find angle in deg, opp {o}, adj {a}, round 2",
        "A roof climbs {o} units vertically across {a} units horizontally. Give its pitch angle "
        "in degrees to two decimal places.",
    ),
)
def angle_from_sides(v: Values) -> Draft:
    o = v.int(1, 50, key=True)
    a = v.int(1, 50)
    result = round(math.degrees(math.atan(o / a)), 2)
    return Draft(
        slots={"o": o, "a": a},
        reasoning="The angle is atan(opposite / adjacent), converted to degrees.",
        code=code(
            "import math",
            "",
            f"opposite = {o}",
            f"adjacent = {a}",
            "angle = math.degrees(math.atan2(opposite, adjacent))",
            "print(round(angle, 2))",
        ),
        requires=("math",),
        answer=f"The angle is about {result} degrees.",
        expected=num(result),
    )


@template(
    "law_of_cosines",
    FAMILY,
    (
        "A triangle has sides {a} and {b} with an angle of {deg}° between them. How long is the "
        "third side?",
        "Use the law of cosines: sides {a} and {b}, included angle {deg} degrees. Find the third "
        "side.",
        "Sides {a} and {b} meet at {deg}°. How long is the third side of the triangle?",
        "Work out the third side of a triangle with two sides {a} and {b} and an included "
        "angle of {deg} degrees.",
        "In triangle ABC, BC = {a}, CA = {b} and angle C = {deg}°. Find AB.",
        "triangle, two sides {a} and {b}, angle between them {deg} deg - third side?",
        "I'm building a triangular frame: two beams of {a} and {b} units meet at a {deg}° "
        "angle. How long must the third beam be?",
        "Given sides of {a} and {b} enclosing a {deg}° angle, what is the length of the "
        "opposite side?",
        "law of cosines: a = {a}, b = {b}, C = {deg}°, find c",
        "Two sides of a triangle measure {a} and {b}, and the angle they form is {deg} degrees. "
        "Compute the remaining side.",
        "SAS triangle: {a}, {deg}°, {b}. What's the missing side length?",
        "A garden bed is triangular: two edges measure {a} m and {b} m with a {deg}° corner "
        "between them. What is the length of the third edge?",
        "Calculate c when a = {a}, b = {b} and γ = {deg}°, using c² = a² + b² − 2ab·cos γ.",
        "what's the third side if two sides are {a} & {b} and the included angle is {deg} degrees",
        "Please determine the side length opposite a {deg}° angle in a triangle whose other two "
        "sides are {a} and {b}.",
        "Given triangle sides {a} and {b} with {deg}° between them, compute side three, rounded "
        "to 2 decimals.",
        "Two roads of length {a} km and {b} km leave a point at {deg}°. How far apart are their "
        "ends?",
    ),
    train_phrasings=(
        "hey, two sides {a} and {b} with {deg} degrees between them - how long is side three? 2 dp",
        "Third side of a triangle: sides {a} and {b}, included angle {deg}°, answer to 2 decimals.",
        "Return the length of side c, rounded to 2 decimals, when a = {a}, b = {b} and the angle "
        "between a and b is {deg} degrees.",
        "Two hikers leave camp on straight paths {deg}° apart and walk {a} km and {b} km. How "
        "far apart are they now, to 2 decimal places?",
        "Using c^2 = a^2 + b^2 - 2ab cos(C) with a = {a}, b = {b}, C = {deg}°, find c to 2 "
        "decimals.",
        "sides {a}, {b}, angle {deg} deg between them; remaining side? round to 2",
        "A triangle has an angle of {deg} degrees formed by sides of length {a} and {b}. What is "
        "the side opposite that angle (2 d.p.)?",
        "Please find the third side length of a triangle with sides {a} and {b} enclosing "
        "{deg}°, rounded to two decimals.",
        "Cosine rule question: {a} and {b} are two sides, {deg} degrees is the angle between "
        "them. Length of the side across from that angle, 2 dp?",
        "I'm cutting a triangular sail. Two edges are {a} and {b} long and meet at {deg}°. How "
        "long is the last edge, to two decimal places?",
        "What is the length opposite the {deg}° included angle when the adjacent sides are {a} "
        "and {b}? Round to 2 decimals.",
        "Side-angle-side: {a}, {deg} degrees, {b}. Compute the unknown side to 2 decimal places.",
    ),
)
def law_of_cosines(v: Values) -> Draft:
    a = v.int(2, 80, key=True)
    b = v.int(2, 80)
    deg = v.int(10, 170)
    c = round((a * a + b * b - 2 * a * b * math.cos(math.radians(deg))) ** 0.5, 2)
    return Draft(
        slots={"a": a, "b": b, "deg": deg},
        reasoning="c² = a² + b² − 2ab·cos(C).",
        code=code(
            "import math",
            "",
            f"side_a = {a}",
            f"side_b = {b}",
            f"angle = math.radians({deg})",
            "side_c = math.sqrt(side_a**2 + side_b**2 - 2 * side_a * side_b * math.cos(angle))",
            "print(round(side_c, 2))",
        ),
        requires=("math",),
        answer=f"The third side is about {human(c)}.",
        expected=num(c),
    )


def _matrix(v: Values, n: int, lo: int = -9, hi: int = 9) -> list[list[int]]:
    return [v.ints(lo, hi, n) for _ in range(n)]


def _det(m: list[list[int]]) -> int:
    if len(m) == 1:
        return m[0][0]
    return sum(
        (-1) ** j * m[0][j] * _det([row[:j] + row[j + 1 :] for row in m[1:]]) for j in range(len(m))
    )


@template(
    "determinant",
    FAMILY,
    (
        "What is the determinant of the matrix {matrix}?",
        "Compute det({matrix}).",
        "det of {matrix}?",
        "Calculate the determinant of {matrix}.",
        "Work out the determinant for this matrix: {matrix}",
        "I need to check whether {matrix} is invertible. What is its determinant?",
        "{matrix} - what's the determinant?",
        "Tell me the value of the determinant of the matrix {matrix}.",
        "determinant of {matrix} please",
        "Could you compute |A| for A = {matrix}?",
        "Given A = {matrix}, what's det(A)?",
        "I'm solving a linear system with Cramer's rule and need the determinant of {matrix}.",
        "Evaluate the determinant: {matrix}",
        "If the rows of a matrix are given by {matrix}, what is its determinant?",
        "By what signed factor does the matrix {matrix} scale areas or volumes (its determinant)?",
        "quick det calc: {matrix}",
        "Find the determinant of the {n}x{n} matrix {matrix}.",
    ),
    train_phrasings=(
        "hey, what's det of {matrix}?",
        "Determinant? Rows: {matrix}",
        "Square matrix with {n} rows, {matrix}: evaluate its det.",
        "Here is a matrix given as a list of rows: {matrix}. Compute its determinant.",
        "For my linear algebra homework I have M = {matrix}. What is det M?",
        "expand along the first row and give me the determinant of {matrix}",
        "My professor handed us M = {matrix}; what number does det M come out to?",
        "Please evaluate det(M) where M = {matrix}.",
        "Is {matrix} singular? Give me its determinant so I can tell.",
        "The rows are {matrix}. What determinant does this square matrix have?",
        "matrix {matrix} - determinant value?",
        "{matrix} is {n} by {n}. Work out det for it.",
    ),
)
def determinant(v: Values) -> Draft:
    n = v.int(2, 3)
    m = _matrix(v, n)
    m[0][0] = v.int(-9, 9, key=True)
    result = _det(m)
    program = (
        [f"matrix = {m!r}", "(a, b), (c, d) = matrix", "print(a * d - b * c)"]
        if n == 2
        else [
            f"matrix = {m!r}",
            "(a, b, c), (d, e, f), (g, h, i) = matrix",
            "det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)",
            "print(det)",
        ]
    )
    return Draft(
        slots={"matrix": str(m), "n": n},
        reasoning="Expand the determinant along the first row.",
        code=code(*program),
        requires=(),
        answer=f"The determinant is {result}.",
        expected=str(result),
    )


@template(
    "dot_product",
    FAMILY,
    (
        "What is the dot product of {u} and {w}?",
        "Compute u · w for u = {u} and w = {w}.",
        "dot product of {u} and {w}?",
        "Work out the dot product between vector {u} and vector {w}.",
        "For vectors u = {u} and w = {w}, what is u dot w?",
        "{u} and {w}: multiply them componentwise and add up the results. What do you get?",
        "I'm computing a projection and need the dot product of {u} with {w}. What is it?",
        "tell me the inner product of {u} and {w}",
        "{u} · {w} = ?",
        "Could you work out u·w, where u = {u} and w = {w}?",
        "hey, can you dot {u} with {w}?",
        "A force {u} moves an object through displacement {w}. How much work is done (force dot "
        "displacement)?",
        "dot({u}, {w})?",
        "Please take the dot product between {u} and {w}.",
        "What is sum(x*y for x, y in zip({u}, {w}))?",
        "Given two vectors, {u} and {w}, determine their dot product.",
        "Find the scalar product of the vectors {u} and {w}.",
    ),
    train_phrasings=(
        "hey, dot these two for me: {u}, {w}",
        "Pair up the entries of {u} and {w}, multiply each pair, and total the products.",
        "Return sum(u[i] * w[i]) for u = {u} and w = {w}.",
        "Vectors {u} and {w}: compute their inner product.",
        "Our physics lab recorded vectors {u} and {w}. What is their dot product?",
        "multiply {u} and {w} entry by entry and sum it up",
        "What number do you get from {u} dotted with {w}?",
        "Please evaluate the inner product of u and w for u = {u}, w = {w}.",
        "u = {u}, w = {w}. u . w = ?",
        "I'm checking if {u} and {w} are orthogonal. What is their dot product?",
        "Add up u[i] * w[i] over all positions, with u = {u} and w = {w}.",
        "u = {u}; w = {w}; need u dot w",
    ),
)
def dot_product(v: Values) -> Draft:
    n = v.int(2, 5)
    u, w = v.ints(-20, 20, n), v.ints(-20, 20, n)
    u[0] = v.int(-20, 20, key=True)
    result = 0
    for i in range(n):
        result += u[i] * w[i]
    return Draft(
        slots={"u": str(u), "w": str(w)},
        reasoning="Multiply matching components and add the products.",
        code=code(
            f"u = {u!r}", f"w = {w!r}", "dot = sum(x * y for x, y in zip(u, w))", "print(dot)"
        ),
        requires=(),
        answer=f"The dot product is {result}.",
        expected=str(result),
    )


@template(
    "matrix_product",
    FAMILY,
    (
        "Multiply the 2x2 matrices {a} and {b}.",
        "What is the matrix product A·B for A = {a} and B = {b}?",
        "Work out the product AB where A = {a} and B = {b}.",
        "A = {a}, B = {b}. Find A*B.",
        "matrix multiply {a} by {b}, with {a} on the left",
        "I'm composing two linear maps and need A B with A = {a} and B = {b}. What is the "
        "resulting matrix?",
        "Calculate the 2x2 product of {a} and {b}, with {a} as the left factor.",
        "What do you get when you multiply the matrix {a} on the right by {b}?",
        "A = {a}, B = {b}; what is AB?",
        "Could you multiply {a} by {b} (in that order) and give me the resulting 2x2 matrix?",
        "matmul: {a} @ {b}",
        "Find the 2x2 matrix equal to A·B, where A = {a} and B = {b}.",
        "In a graphics pipeline I store transforms as A = {a} and B = {b}. What's the combined "
        "matrix A·B?",
        "Please give the result of left-multiplying {b} by {a}.",
        "Work out the matrix product {a}·{b}.",
        "If A is {a} and B is {b}, what matrix is A multiplied by B?",
        "Compute {a} times {b} (matrix multiplication).",
    ),
    train_phrasings=(
        "hey, can you multiply {a} times {b}? the first one goes on the left",
        "Matrix product, left factor {a}, right factor {b}. Result?",
        "Return A @ B for the 2x2 matrices A = {a} and B = {b}.",
        "Given the two 2x2 matrices A = {a} and B = {b}, compute A times B (A first).",
        "For my linear algebra class: A = {a}, B = {b}. What is the product A*B?",
        "multiply matrix {a} with matrix {b}, in that order",
        "What 2x2 matrix results from {a} multiplied by {b}, with {a} on the left?",
        "Please form the product of A = {a} and B = {b}, taking rows of A against columns of B.",
        "Two transformations, A = {a} and B = {b}. What matrix is A·B (apply B first, then A)?",
        "2x2 matmul, A = {a}, B = {b}: A·B = ?",
        "Compute the matrix obtained by multiplying {a} (left) by {b} (right).",
        "I'm chaining 2D transforms in a game: A = {a}, B = {b}. Give me the product A times B.",
    ),
)
def matrix_product(v: Values) -> Draft:
    a, b = _matrix(v, 2), _matrix(v, 2)
    a[0][0] = v.int(-9, 9, key=True)
    product = [[sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2)] for i in range(2)]
    return Draft(
        slots={"a": str(a), "b": str(b)},
        reasoning="Entry (i, j) of the product is row i of A dotted with column j of B.",
        code=code(
            f"a = {a!r}",
            f"b = {b!r}",
            "product = [[sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2)]",
            "           for i in range(2)]",
            "print(product)",
        ),
        requires=(),
        answer=f"The product is {product}.",
        expected=str(product),
        check="exact",
    )


@template(
    "linear_system",
    FAMILY,
    (
        "Solve for x and y: {a1}x + {b1}y = {c1} and {a2}x + {b2}y = {c2}.",
        "Find x and y such that {a1}x + {b1}y = {c1} and {a2}x + {b2}y = {c2}.",
        "{a1}x + {b1}y = {c1}, {a2}x + {b2}y = {c2}. Solve for x and y.",
        "Work out x and y given the system {a1}x + {b1}y = {c1}, {a2}x + {b2}y = {c2}.",
        "solve the system: {a1}x + {b1}y = {c1}; {a2}x + {b2}y = {c2}",
        "Tell me the values of x and y that satisfy both {a1}x + {b1}y = {c1} and {a2}x + "
        "{b2}y = {c2}.",
        "The lines {a1}x + {b1}y = {c1} and {a2}x + {b2}y = {c2} cross at one point. Give its "
        "x and y.",
        "I have the simultaneous equations {a1}x + {b1}y = {c1} and {a2}x + {b2}y = {c2}. "
        "Find x and y.",
        "Solve the simultaneous equations:\n{a1}x + {b1}y = {c1}\n{a2}x + {b2}y = {c2}\nPlease "
        "show x and y.",
        "system: {a1}*x+{b1}*y={c1}; {a2}*x+{b2}*y={c2}; solve it",
        "Could you please solve this pair of linear equations for me? First: {a1}x + {b1}y = "
        "{c1}. Second: {a2}x + {b2}y = {c2}.",
        "By elimination, solve this system for the unknowns: {a1}·x + {b1}·y = {c1}, {a2}·x + "
        "{b2}·y = {c2}.",
        "Find the point where the line {c1} = {a1}x + {b1}y meets the line {c2} = {a2}x + {b2}y.",
        "Solve simultaneously -> eq1: {c1} = {a1}x + {b1}y, eq2: {c2} = {a2}x + {b2}y",
        "A circuit analysis gave me {a1}x + {b1}y = {c1} plus {a2}x + {b2}y = {c2}; I need the "
        "unknowns x and y.",
        "Apply Cramer's rule to the 2x2 system {c1} = {a1}x + {b1}y, {c2} = {a2}x + {b2}y.",
        "What are x and y if {a1}x + {b1}y = {c1} and {a2}x + {b2}y = {c2}?",
    ),
    train_phrasings=(
        "hey, stuck on homework: {a1} times x plus {b1} times y is {c1}, and {a2} times x plus "
        "{b2} times y is {c2}. what are x and y",
        "Augmented matrix [[{a1}, {b1} | {c1}], [{a2}, {b2} | {c2}]], columns x then y. Solve "
        "for x and y.",
        "Two unknown numbers x and y: {a1} lots of x and {b1} lots of y add up to {c1}, while "
        "{a2} lots of x and {b2} lots of y add up to {c2}. Find both.",
        "Coefficients of x: {a1} and {a2}. Coefficients of y: {b1} and {b2}. Right-hand "
        "sides: {c1} and {c2}. Solve the 2x2 linear system for x and y.",
        "My physics simulation spits out two constraints, {a1}*x + {b1}*y == {c1} and "
        "{a2}*x + {b2}*y == {c2}. Please give me x and y.",
        "In matrix form, [[{a1}, {b1}], [{a2}, {b2}]] times the column (x, y) equals "
        "({c1}, {c2}). What are x and y?",
        "Let x, y be real numbers with {c1} = {b1}y + {a1}x and {c2} = {b2}y + {a2}x. Compute "
        "x and y.",
        "Row one says {a1}x + {b1}y is {c1}; row two says {a2}x + {b2}y is {c2}. Our algebra "
        "teacher wants the x and y that make both rows true.",
        "Determine the unique ordered pair (x, y) on both lines: line 1 is {a1}x + {b1}y = "
        "{c1}, line 2 is {a2}x + {b2}y = {c2}. Report x and y.",
        "Solve:\n  ({a1})x + ({b1})y = {c1}\n  ({a2})x + ({b2})y = {c2}\nGive x and y.",
        "Spreadsheet check: cells x and y must obey x·{a1} + y·{b1} = {c1} as well as "
        "x·{a2} + y·{b2} = {c2}. Which values go in x and y?",
        "quick: x*{a1} + y*{b1} = {c1}, x*{a2} + y*{b2} = {c2}; x and y?",
    ),
)
def linear_system(v: Values) -> Draft:
    x, y = v.int(-12, 12, key=True), v.int(-12, 12)
    while True:
        a1, b1, a2, b2 = v.ints(1, 9, 4)
        if a1 * b2 - a2 * b1 != 0:
            break
    c1, c2 = a1 * x + b1 * y, a2 * x + b2 * y
    return Draft(
        slots={"a1": a1, "b1": b1, "c1": c1, "a2": a2, "b2": b2, "c2": c2},
        reasoning="Use Cramer's rule with exact fractions: x = (c1·b2 − b1·c2) / det, "
        "y = (a1·c2 − c1·a2) / det.",
        code=code(
            "from fractions import Fraction",
            "",
            f"a1, b1, c1 = {a1}, {b1}, {c1}",
            f"a2, b2, c2 = {a2}, {b2}, {c2}",
            "det = a1 * b2 - a2 * b1",
            "x = Fraction(c1 * b2 - b1 * c2, det)",
            "y = Fraction(a1 * c2 - c1 * a2, det)",
            'print(f"x={x}, y={y}")',
        ),
        requires=("fractions",),
        answer=f"The solution is x = {x}, y = {y}.",
        expected=f"x={x}, y={y}",
        check="exact",
    )


@template(
    "vector_magnitude",
    FAMILY,
    (
        "What is the length of the vector {u}?",
        "Compute the Euclidean norm of {u}, to 2 decimals.",
        "Magnitude of {u}?",
        "Calculate the norm of the vector {u}, rounded to 2 decimals.",
        "Work out |{u}| (Euclidean length) to two decimal places.",
        "A displacement vector is {u}. What is its magnitude, to 2 decimal places?",
        "tell me the length of vector {u}, 2 dp",
        "Find the L2 norm of {u}, rounded to 2 decimal places.",
        "||{u}|| = ? (2 dp)",
        "Could you compute the magnitude of {u}, rounded to 2 decimals?",
        "A drone moves by {u} metres along the axes. What straight-line distance did it cover, "
        "to 2 decimal places?",
        "norm of {u} please, 2 decimals",
        "Find the square root of the sum of squares of the entries of {u}, to two decimals.",
        "Euclidean length of {u}, please - give it to 2 dp.",
        "Determine the size (magnitude) of the vector {u} to 2 d.p.",
        "I'm normalising the vector {u}; first I need its norm. What is it, rounded to 2 decimals?",
        "How long is the vector {u} (2 decimal places)?",
    ),
    train_phrasings=(
        "hey, need ||v|| with v = {u}, round it to 2 dp",
        "Norm of {u}, two decimals.",
        "Return the Euclidean length of {u}, rounded to 2 places.",
        "Square each component of {u}, add them, take the square root, and round to 2 decimals.",
        "A robot's velocity vector is {u}. What is its speed (the vector's magnitude) to 2 "
        "decimal places?",
        "length of vector {u} rounded to 2",
        "Give me the magnitude, correct to two decimals, of the vector whose components are {u}.",
        "Please compute ||v|| for v = {u}, rounded to 2 decimals.",
        "Straight-line distance from the origin to the point {u}? Round to 2 decimals.",
        "Vector {u}: Euclidean norm (2 d.p.)?",
        "My physics lab gave me the vector {u}. Find its length, rounded to two decimals.",
        "sqrt of the sum of squares of {u}, 2 dp?",
    ),
)
def vector_magnitude(v: Values) -> Draft:
    u = v.ints(-30, 30, v.int(2, 4))
    u[0] = v.int(-30, 30, key=True)
    result = round(sum(x * x for x in u) ** 0.5, 2)
    return Draft(
        slots={"u": str(u)},
        reasoning="The norm is the square root of the sum of squared components.",
        code=code(
            "import math",
            "",
            f"vector = {u!r}",
            "length = math.sqrt(sum(x ** 2 for x in vector))",
            "print(round(length, 2))",
        ),
        requires=("math",),
        answer=f"The vector's length is about {result}.",
        expected=num(result),
    )


@template(
    "divisor_count",
    FAMILY,
    (
        "How many positive divisors does {n} have?",
        "Count the divisors of {n}.",
        "how many divisors does {n} have",
        "Work out how many positive divisors {n} has.",
        "Tell me the total count of positive factors of {n}.",
        "{n}: how many factors does it have, counting 1 and itself?",
        "I'm studying the divisor function. What is d({n}), the number of positive divisors "
        "of {n}?",
        "Find the number of divisors of {n}.",
        "d({n}) = ? (divisor count)",
        "Could you tell me how many factors {n} has, including 1 and {n} itself?",
        "I want to arrange {n} chairs in a full rectangular grid. How many grid shapes are "
        "possible if 3x4 and 4x3 count as different?",
        "count factors of {n}",
        "Determine tau({n}), the divisor-counting function.",
        "How many whole numbers go evenly into {n}?",
        "Please compute the divisor count for {n}.",
        "Using its prime factorization, work out how many divisors {n} has.",
        "What is the number of positive integers that divide {n}?",
    ),
    train_phrasings=(
        "hey, how many numbers divide {n} evenly? count 1 and {n} too",
        "divisors of {n}: how many in total (1 and {n} included)?",
        "Return the size of the set of positive divisors of {n}.",
        "Count every factor of {n}, including 1 and the number itself.",
        "A teacher has {n} stickers and wants to share them equally among some number of kids "
        "with none left over. How many different numbers of kids work (1 kid and {n} kids "
        "included)?",
        "how many whole numbers from 1 to {n} divide {n} with no remainder",
        "List the divisors of {n} in your head - how many are there?",
        "Please tell me the divisor count of {n} (all positive divisors).",
        "If you wrote down every positive divisor of {n}, 1 and {n} included, how long would "
        "the list be?",
        "{n} has how many divisors?",
        "I'm checking if {n} is highly composite. How many positive divisors does it have?",
        "For a number theory quiz: count all positive d with {n} % d == 0.",
    ),
)
def divisor_count(v: Values) -> Draft:
    n = v.int(2, 20000, key=True)
    count = 1
    factors = _factor(n)
    for p in set(factors):
        count *= factors.count(p) + 1
    return Draft(
        slots={"n": n},
        reasoning="Test each candidate up to √n; each divisor d below √n pairs with n / d.",
        code=code(
            f"n = {n}",
            "count = 0",
            "d = 1",
            "while d * d <= n:",
            "    if n % d == 0:",
            "        count += 1 if d * d == n else 2",
            "    d += 1",
            "print(count)",
        ),
        requires=(),
        answer=f"{n} has {count} positive divisors.",
        expected=str(count),
    )


@template(
    "binomial",
    FAMILY,
    (
        "How many ways can you choose {k} items from {n}?",
        "Compute the binomial coefficient C({n}, {k}).",
        "{n} choose {k}?",
        "Calculate nCr with n = {n} and r = {k}.",
        "How many different subsets of size {k} does a set of {n} elements have?",
        "I have {n} distinct books and want to take {k} of them on a trip (order doesn't "
        "matter). How many possible selections are there?",
        "tell me how many combinations of {k} you can make out of {n} things",
        "In how many ways can {k} objects be selected from {n} distinct objects, ignoring order?",
        "C({n},{k}) = ?",
        "Could you compute {n} choose {k} for me?",
        "A pizza place offers {n} toppings. How many different pizzas with exactly {k} distinct "
        "toppings can I order?",
        "binomial({n}, {k})?",
        "What is the coefficient of x^{k} in the expansion of (1 + x)^{n}?",
        "Evaluate n!/(k!(n-k)!) for n = {n}, k = {k}.",
        "In a lottery you pick {k} different numbers out of {n}. How many different tickets are "
        "possible?",
        "math.comb({n}, {k}) returns what?",
        "A committee of {k} is picked from {n} people. How many different committees are there?",
    ),
    train_phrasings=(
        "hey, how many ways to pick {k} things out of {n} if order doesn't matter?",
        "Combinations: n = {n}, k = {k}. How many?",
        "Return the number of {k}-element subsets of a {n}-element set.",
        "A coach needs {k} players for a drill and has a squad of {n}. Counting only who is "
        "picked, not the order, how many different groups can she form?",
        "Please compute nCk for n = {n} and k = {k}.",
        "how many combos of {k} from {n}",
        "What is the value of the binomial coefficient {n} choose {k}?",
        "From {n} distinct candies, a child may take exactly {k}. How many different handfuls "
        "could she end up with?",
        "Find the number of unordered selections of {k} out of {n} distinct items.",
        "value of the binomial coefficient with top {n} and bottom {k}?",
        "I'm counting poker-style hands: how many {k}-card hands come from a deck of {n} distinct "
        "cards?",
        "With {n} distinct options and exactly {k} to be taken (order irrelevant), count the "
        "possibilities.",
    ),
)
def binomial(v: Values) -> Draft:
    n = v.int(4, 40, key=True)
    k = v.int(1, n - 1)
    result = 1
    for i in range(k):
        result = result * (n - i) // (i + 1)
    return Draft(
        slots={"n": n, "k": k},
        reasoning=f"C(n, k) = n! / (k!(n − k)!); math.comb computes it for n = {n}, k = {k}.",
        code=code("import math", "", f"n = {n}", f"k = {k}", "print(math.comb(n, k))"),
        requires=("math",),
        answer=f"There are {human(result)} ways.",
        expected=str(result),
    )


@template(
    "modular_inverse",
    FAMILY,
    (
        "What is the inverse of {a} modulo {m}?",
        "Find x with {a}·x ≡ 1 (mod {m}).",
        "inverse of {a} mod {m}?",
        "Work out {a}^-1 modulo {m}.",
        "Tell me the number between 1 and {m} - 1 that, multiplied by {a}, leaves remainder 1 "
        "when divided by {m}.",
        "I'm doing RSA by hand and need the inverse of {a} modulo {m}. What is it?",
        "Find pow({a}, -1, {m}).",
        "Solve {a}*x mod {m} = 1 for x.",
        "{a}^(-1) mod {m} = ?",
        "What is the reciprocal of {a} in arithmetic modulo {m}?",
        "Which x in 1..{m}-1 satisfies {a}x ≡ 1 (mod {m})?",
        "I need to divide by {a} in the field Z/{m}Z. What number should I multiply by instead?",
        "mod {m} inverse of {a}?",
        "Use the extended Euclidean algorithm to get the inverse of {a} modulo {m}.",
        "In modulo {m} arithmetic, what number undoes multiplication by {a}?",
        "Please determine {a}'s inverse with respect to the modulus {m}.",
        "Compute the modular multiplicative inverse of {a} mod {m}.",
    ),
    train_phrasings=(
        "hey, what do I multiply {a} by to get 1 mod {m}?",
        "Inverse under multiplication mod {m}, for {a}?",
        "Return the value x in [1, {m} - 1] with {a} * x leaving remainder 1 modulo {m}.",
        "Working mod {m}, which value x makes {a} times x equal 1?",
        "For my cryptography course I need {a} inverted modulo {m}. What is the inverse?",
        "need {a}'s inverse, working mod {m}",
        "Modulus {m}, number {a}: which residue times {a} gives 1?",
        "Please solve the congruence {a}x ≡ 1 (mod {m}) for x between 1 and {m} - 1.",
        "Find the x from 1 to {m} - 1 with ({a} * x) % {m} == 1.",
        "What number times {a} leaves a remainder of 1 when divided by {m}? Give the one "
        "below {m}.",
        "What is {a} to the power -1 in the integers modulo {m}?",
        "I'm decoding an affine cipher with multiplier {a} mod {m}. What's the inverse of {a}?",
    ),
)
def modular_inverse(v: Values) -> Draft:
    m = v.choice(
        (
            7,
            11,
            13,
            17,
            19,
            23,
            29,
            31,
            37,
            41,
            43,
            47,
            53,
            59,
            61,
            67,
            71,
            73,
            79,
            83,
            89,
            97,
            101,
            103,
            107,
            109,
            113,
            127,
        )
    )
    a = v.int(2, m - 1, key=True)
    inverse = next(x for x in range(1, m) if a * x % m == 1)
    return Draft(
        slots={"a": a, "m": m},
        reasoning="pow(a, -1, m) returns the modular inverse when gcd(a, m) = 1.",
        code=code(f"a = {a}", f"modulus = {m}", "print(pow(a, -1, modulus))"),
        requires=(),
        answer=f"The inverse of {a} modulo {m} is {inverse}.",
        expected=str(inverse),
    )
