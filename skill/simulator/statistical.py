"""A statistical second opinion for `hip-helper evaluate-nlu --matcher statistical`.

Alexa generalises beyond the exact samples; the simulator's matcher does not. This small TF-IDF
classifier, trained on the model's own samples, is an APPROXIMATION of that generalisation, not
Alexa's model: its figures say roughly how well the sample sets cover what people say, and its
confusions show which intents' sample sets overlap. It predicts intents only, never slots.
scikit-learn is a dev extra (`pip install -e '.[nlu]'`); the skill never imports this module.
"""
from __future__ import annotations

import re

from skill.settings import DEV_SKILL_ID
from skill.simulator.evaluate import LAUNCH, Annotation, Heard
from skill.simulator.model import InteractionModel
from skill.simulator.nlu import BUILTIN_PHRASES, FALLBACK_INTENT, UtteranceResolver, normalize

# What a built-in slot reference is replaced with in a training sample.
_BUILTIN_EXAMPLES = {"AMAZON.TIME": "seven am", "AMAZON.DATE": "tomorrow", "AMAZON.DURATION": "ten minutes",
                     "AMAZON.NUMBER": "five"}
_SLOT_REFERENCE = re.compile(r"\{([^{}]+)\}")


def training_set(model: InteractionModel) -> tuple[list[str], list[str]]:
    """Every sample (plus the built-in phrases for declared built-in intents), slots filled with a value."""
    texts: list[str] = []
    labels: list[str] = []
    for intent in model.intents:
        slot_types = {slot.name: slot.type for slot in intent.slots}

        def example(found: re.Match[str]) -> str:
            slot_type = model.slot_types.get(slot_types.get(found.group(1), ""))
            if slot_type is not None and slot_type.values:
                return slot_type.values[0].name
            return _BUILTIN_EXAMPLES.get(slot_types.get(found.group(1), ""), "something")

        for sample in intent.samples + BUILTIN_PHRASES.get(intent.name, ()):
            texts.append(normalize(_SLOT_REFERENCE.sub(example, sample)))
            labels.append(intent.name)
    return texts, labels


class StatisticalMatcher:
    """TF-IDF word uni- and bigrams with logistic regression; unsure predictions go to the FallbackIntent."""

    label = "statistical (TF-IDF classifier on the samples: an approximation of Alexa, not Alexa)"

    def __init__(self, model: InteractionModel, *, fallback_below: float = 0.2) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        texts, labels = training_set(model)
        self._classifier = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                         LogisticRegression(C=20, max_iter=5000))
        self._classifier.fit(texts, labels)
        self._fallback_below = fallback_below
        # Launch phrases ("open hip helper") are Alexa's, not samples: the exact matcher knows them.
        self._launches = UtteranceResolver(model, DEV_SKILL_ID, generalise=False)

    def hear(self, annotation: Annotation) -> Heard:
        if self._launches.resolve(annotation.utterance).is_launch:
            return Heard(LAUNCH, None)
        probabilities = self._classifier.predict_proba([normalize(annotation.utterance)])[0]
        best = int(probabilities.argmax())
        if probabilities[best] < self._fallback_below:
            return Heard(FALLBACK_INTENT, None)
        return Heard(str(self._classifier.classes_[best]), None)

    def expected_slots(self, annotation: Annotation) -> dict[str, str]:
        return {}  # slots are not predicted, so they are not compared
