"""One module per stage of the pipeline (relay.pipeline.order says the order)."""
