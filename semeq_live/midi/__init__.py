"""MIDI control: mapping files, the message -> ControlState controller, scenes, ports, performances.

Integration points for the control loop::

    mapping = load_mapping(path, known_terms=model.terms)        # MappingError: file:line: key: ...
    scenes = SceneBank("scenes.yaml", known_terms=model.terms)
    palette = resolve_palette(mapping, model)                   # the words term A/B step through
    ctl = MidiController(mapping, state, palette, scenes=scenes)
    midi = MidiInput(["nanoKONTROL2"], api="jack",                # queued messages
                     on_connect=lambda port: ctl.forget_positions())
    for port, msg, t in midi.drain():
        for action in ctl.handle(msg): ...                       # learn_reference, panic, ...
    leds = FeedbackOutput(mapping.led_port) if mapping.led_port else None
    leds and leds.send(ctl.feedback_messages())                  # sends only what changed

Offline: ``load_performance(file)`` + ``BlockScheduler(events, sample_rate, block_size).due(k)``.
Names are imported lazily so ``import semeq_live.midi`` loads neither rtmidi nor JACK-Client.
"""

from __future__ import annotations

from ..lazy_exports import lazy_getattr

_EXPORTS = {
    "load_mapping": "mapping", "default_mapping_path": "mapping", "mappings_dir": "mapping",
    "shipped_mappings": "mapping", "resolve_mapping_path": "mapping", "Mapping": "mapping",
    "Control": "mapping", "MAPPING_VERSION": "mapping",
    "TARGETS": "targets",
    "resolve_palette": "palette", "DEFAULT_PALETTE_SIZE": "palette",
    "MidiController": "controller", "Action": "controller", "PendingPickup": "controller",
    "SceneBank": "scenes",
    "MidiInput": "ports", "FeedbackOutput": "feedback", "decode_packet": "ports",
    "device_name": "ports",
    "list_input_ports": "ports", "list_output_ports": "ports",
    "load_performance": "performance", "BlockScheduler": "performance",
    "write_performance": "performance", "block_of": "performance",
    "LocatedError": "yamlfile",
    "MappingLearner": "learn", "write_learned_mapping": "learn",
    "write_demo_performance": "demo",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
