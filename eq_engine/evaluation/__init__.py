"""eq_engine.evaluation"""
