"""eq_engine.quantification"""
