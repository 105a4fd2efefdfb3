"""ComfyUI workflow templates: API-format graphs, declarative parameter bindings, and the binder.

registry = load_templates()                     # at start-up, off the event loop
template = registry.get("flux_kontext_dev_basic")
params = resolve_parameters(template, {"description": "make it red", "steps": 28})
prompt = bind(template, params.with_seed(seed), images={"image": uploaded_name},
              models=settings_models, filename_prefix="kontext")
"""
