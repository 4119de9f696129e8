"""eq_engine.training"""
