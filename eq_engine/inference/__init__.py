"""eq_engine.inference"""
