"""No models: this module exists so that Django sends this app its migrate signals
(the database cache table is made on pre_migrate, see apps.py)."""
