#!/usr/bin/env python3
"""Data/texts.txt: a small text data set of this project's own making, for the README's text
example and the tests: 480 short documents in fastText's format (`__label__TOPIC words...`),
120 for each of four topics (cooking, football, weather, computing). Each document is a few
sentences put together from topic phrases and from phrases every topic shares, so that no
single word tells the topic; some words carry accents (café, purée, Müller, señor) and 24
documents carry two labels (a football match stopped by the weather, a recipe app), to
exercise UTF-8 and several labels.

    python3 Scripts/make_text_data.py      # deterministic (seeded)
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
rng = random.Random(16)

TOPICS = {
    "cooking": [
        "stir the sauce until it thickens", "bake the bread for forty minutes",
        "season the soup with salt and pepper", "chop two onions and a clove of garlic",
        "the café serves a lovely potato purée", "whisk the eggs with sugar and butter",
        "let the dough rest overnight in the fridge", "roast the vegetables in a hot oven",
        "the recipe needs fresh basil and olive oil", "simmer the beans on a low heat",
        "grate the cheese over the pasta", "the chef tasted the stew and added lemon",
    ],
    "football": [
        "the striker scored in the last minute", "the keeper saved a penalty",
        "Müller passed the ball across the box", "the referee showed a red card",
        "the team won the league on goal difference", "fans sang as the players came out",
        "the coach changed the formation at half time", "a header from the corner kick",
        "the match ended in a goalless draw", "the midfielder was booked for a late tackle",
        "they lost the derby after extra time", "the winger crossed for the captain",
    ],
    "weather": [
        "heavy rain is expected this afternoon", "the wind will ease by the evening",
        "temperatures drop below freezing tonight", "a storm is moving in from the west",
        "sunny spells with a few showers", "fog will linger in the valleys",
        "the forecast says snow on high ground", "humidity rises ahead of the thunder",
        "a warm front brings drizzle to the coast", "clear skies and a light breeze",
        "the heatwave ends with a cold front", "señor López reported hail in the north",
    ],
    "computing": [
        "the compiler reports a type error", "restart the server after the update",
        "the program leaks memory in the loop", "merge the branch and run the tests",
        "the database query needs an index", "the laptop fan spins when the cpu is busy",
        "install the package and check the version", "the kernel scheduler moved the thread",
        "a cache miss costs a hundred cycles", "the script parses the log file",
        "encrypt the disk before you ship it", "the network drops packets under load",
    ],
}

SHARED = [
    "it was a long day", "everyone agreed it went well", "we will see tomorrow",
    "nobody expected that", "the report came out this morning", "later in the week",
    "as usual", "according to the news", "by all accounts", "it could have been worse",
]


def document(topics):
    sentences = []
    for topic in topics:
        sentences += rng.sample(TOPICS[topic], rng.randint(2, 3))
    sentences += rng.sample(SHARED, rng.randint(1, 2))
    rng.shuffle(sentences)
    text = ". ".join(s[0].upper() + s[1:] for s in sentences) + "."
    return " ".join(f"__label__{t}" for t in topics) + " " + text


lines = []
for topic in TOPICS:
    lines += [document([topic]) for _ in range(114)]
pairs = [("football", "weather"), ("cooking", "computing")]
for a, b in pairs:
    lines += [document([a, b]) for _ in range(12)]
rng.shuffle(lines)
with open(os.path.join(ROOT, "Data", "texts.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
