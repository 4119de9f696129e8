"""eq_engine.data"""
