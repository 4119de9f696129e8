"""eq_engine.models"""
