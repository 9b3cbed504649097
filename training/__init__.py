"""Training of the semantic EQ model (torch). The live tool never imports this package.

``python -m training.train --data ../shared/data/safe_eq.csv --out MODEL.npz`` trains, evaluates and
exports in one go. Modules: ``data`` (loading and clean-up), ``response`` (torch ``response_db``),
``nets`` (the networks), ``losses``, ``curves`` (curve-encoder samples and spectral noise),
``evaluate`` (metrics and baselines in the response domain), ``card`` (the model card); the
``.npz`` layout is ``semeq_live.model.store``'s.
"""
