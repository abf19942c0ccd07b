#!/usr/bin/env bash
# Regenerate the data and retrain the default emulator shipped in src/nucleiml/data/emulator/ (README, "The
# emulator"). Every step is resumable or cheap to repeat; run from the repository root with NucleiML
# installed with the data and ml extras (pip install -e ".[data,ml,infer]").
#
#   scripts/build_default_emulator.sh [DATA_DIR] [WORKERS]
#
# Wall time (measured on the project's idle 2-core machine): data 212 rows/s with 2 workers for the set2
# nuclei, i.e. 39 min for the 500,000 rows; training on one core: default preset 7.4 min, paper preset 18 min,
# the two nucleus-subset models (Fig. 7) 4 and 6 min.
set -euo pipefail

DATA=${1:-data/emulator}
WORKERS=${2:-2}
MODELS=$DATA/models
REPORT=$DATA/report

# 1. training data: 50,000 samples of the default prior over the set2 nuclei (500,000 rows), split by sample
nucleiml generate --samples 50000 --nuclei set2 --seed 1 --workers "$WORKERS" --out "$DATA/set2"
nucleiml dataset split "$DATA/set2" --fractions 0.8,0.1,0.1 --seed 0

# 2. fresh rows of nuclei no model is trained on, for the unseen-nuclei study (seed Fig. 7)
nucleiml generate --samples 5000 --nuclei 34Si,52Ca,54Ca,56Ni,100Sn --seed 2027 --workers "$WORKERS" \
    --out "$DATA/unseen"

# 3. models: the shipped default, the seed's networks for comparison, and the default preset trained on the
#    smaller nucleus sets of the seed's Fig. 7
nucleiml train "$DATA/set2" --out "$MODELS/default" --preset default --seed 0
nucleiml train "$DATA/set2" --out "$MODELS/paper-preset" --preset paper --seed 0
nucleiml train "$DATA/set2" --out "$MODELS/default-paper-nuclei" --preset default --nuclei paper --seed 0
nucleiml train "$DATA/set2" --out "$MODELS/default-set1-nuclei" --preset default --nuclei set1 --seed 0

# 4. evaluation on the held-out test split (fresh RMF rows the models never saw) and the unseen nuclei
nucleiml evaluate "$MODELS/default" "$DATA/set2" --report "$REPORT" \
    --also paper-preset="$MODELS/paper-preset" \
    --also paper-nuclei="$MODELS/default-paper-nuclei" \
    --also set1-nuclei="$MODELS/default-set1-nuclei" \
    --unseen "$DATA/unseen"

# 5. ship: the model files and the training dataset card go into the package
mkdir -p src/nucleiml/data/emulator
cp "$MODELS/default/model.json" "$MODELS/default/weights.npz" "$MODELS/default/dataset_card.json" \
    src/nucleiml/data/emulator/
python -m pytest -q -m "" tests/test_emulator_shipped.py
python benchmarks/bench_emulator.py
echo "report: $REPORT/report.md"
