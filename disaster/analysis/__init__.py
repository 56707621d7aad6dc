"""Pure, vectorised evacuation analysis (no database access).

``engine.assess`` runs the pipeline: exposure at home -> leave or stay -> suitable shelters ->
capacity-constrained 福祉避難所 assignment -> distance and time -> plan-making priority ->
supporter gaps. Every decision carries reasons as ``{"code", "text"}`` in plain Japanese.
"""
