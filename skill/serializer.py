"""A fast, lenient drop-in for ask-sdk-core's DefaultSerializer.

DefaultSerializer resolves every type string ("list[...]", "dict(str, ...)", class paths) with a
regex and an import on every field of every request, and parses timestamps with dateutil. Here
each type string is resolved once into a converter function and cached, and timestamps go through
`datetime.fromisoformat`. Results are the same as DefaultSerializer's for every payload it accepts.

A request envelope is built lazily: each nested model (context, the device, a slot's resolutions,
the viewport...) is built from its JSON on first attribute access, so a request pays only for what
the SDK and its handler read. The objects are the SDK's model classes (a subclass per class), equal
to and serialized like eagerly built ones.

It is also lenient, so that a request gets an answer or a 400, never a 500:
- an unknown `request.type` becomes an `UnknownRequest`, which the skill's catch-all handler answers;
- an enum value, or the type of a nested polymorphic object, that the installed ask-sdk-model does
  not know yet becomes None;
- unknown JSON fields are ignored;
- structural garbage (`"request": 5`, `"session": "x"`) raises SerializationException: at once
  at the top of the envelope, and on first read below it (the runtime answers both with a 400).
"""
from __future__ import annotations

import decimal
import importlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import lru_cache, partial
from typing import Any, Callable

import orjson
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import Request, RequestEnvelope

Converter = Callable[[Any], Any]
TypeSpec = str | type

_LIST_TYPE = re.compile(r"list\[(.*)\]")
_DICT_TYPE = re.compile(r"dict\(([^,]*), (.*)\)")
_TYPE_NAMES = re.compile(r"[\w.]+")  # the names in a type string: "list[x.Y]" -> list, x.Y
_CONTAINERS = frozenset({"list", "dict"})
# Where the SDK looks up a class name given without a module.
_SDK_SERIALIZE_MODULE = DefaultSerializer.__module__


class UnknownRequest(Request):
    """A request whose `type` the installed ask-sdk-model does not know (e.g. a newly added one).

    `object_type` keeps the raw type string, so request-type predicates simply don't match it and
    dispatch falls through to the skill's catch-all handler.
    """

    def __init__(self, object_type: str | None = None, request_id: str | None = None,
                 timestamp: datetime | None = None, locale: str | None = None) -> None:
        super().__init__(object_type=object_type, request_id=request_id, timestamp=timestamp, locale=locale)


@lru_cache(maxsize=None)
def _load_class(class_path: str) -> type:
    """The class named by a dotted path, resolved the way the SDK does (bare names: its own module)."""
    module_name, _, class_name = class_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name or _SDK_SERIALIZE_MODULE), class_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise SerializationException(f"Unable to resolve class {class_path} from installed modules: {error}") from None


def _identity(value: Any) -> Any:
    return value


def _require(payload: Any, expected: type, what: str) -> Any:
    if not isinstance(payload, expected):
        raise SerializationException(f"{what}: expected a JSON {expected.__name__}, got {type(payload).__name__}")
    return payload


def _require_scalar(payload: Any, type_name: str) -> None:
    if isinstance(payload, (dict, list)):
        raise SerializationException(f"expected a JSON scalar for {type_name}, got {type(payload).__name__}")


def _primitive_converter(primitive: type) -> Converter:
    """The SDK's scalar casts (str(5) == "5", int("6") == 6), but an object or array is an error, not its repr."""
    def convert(payload: Any) -> Any:
        if type(payload) is primitive:
            return payload
        _require_scalar(payload, primitive.__name__)
        try:
            return primitive(payload)
        except TypeError:
            return payload
        except ValueError:
            raise SerializationException(f"Failed to parse {payload} into '{primitive.__name__}' object") from None
    return convert


def _enum_converter(enum_type: type[Enum]) -> Converter:
    members = {member.value: member for member in enum_type}  # a dict lookup is ~10x faster than enum_type(value)

    def convert(payload: Any) -> Enum | None:
        _require_scalar(payload, enum_type.__name__)
        return members.get(payload)  # None for a value newer than the installed ask-sdk-model
    return convert


_IMMUTABLE_DEFAULTS = (type(None), str, int, float, bool, Enum)
_DEFERRED = "_deferred_json"


class MalformedEnvelope(SerializationException):
    """Garbage found below the top of a request envelope, when that part is first read."""


class _Deferred:
    """Mixed into a model class: attributes still in `_deferred_json` are built on first read.

    `__getattr__` runs only for names missing from the instance's __dict__, so a built attribute
    costs a plain lookup, and dunder probes (copy, pickle) never trigger a build.
    """

    def __getattr__(self, name: str) -> Any:
        deferred = self.__dict__.get(_DEFERRED)
        if not deferred or name not in deferred:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        convert, payload = deferred.pop(name)
        if not deferred:
            del self.__dict__[_DEFERRED]  # fully built: the same __dict__ as an eager model's
        try:
            value = self.__dict__[name] = _converted(convert, payload)
        except MalformedEnvelope:
            raise
        except SerializationException as error:
            raise MalformedEnvelope(f"{name}: {error}") from error
        return value

    def _build_all(self) -> None:
        for name in list(self.__dict__.get(_DEFERRED, ())):
            getattr(self, name)

    def __eq__(self, other: object) -> bool:
        # Python asks the subclass first, so this runs whichever side of == the deferred model is on.
        for model in (self, other):
            if isinstance(model, _Deferred):
                model._build_all()
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # as the generated models: they define __eq__, so they are unhashable


@lru_cache(maxsize=None)
def _deferred_class(model_type: type) -> type:
    """`model_type` with deferred attributes; same name and module, so reprs and errors read the same."""
    return type(model_type.__name__, (_Deferred, model_type), {"__module__": model_type.__module__,
                                                               "__qualname__": model_type.__qualname__})


def _converted(convert: Converter, payload: Any) -> Any:
    try:
        return convert(payload)
    except SerializationException:
        raise
    except Exception as error:  # the web layer maps SerializationException to a 400; nothing else may escape
        raise SerializationException(f"{type(error).__name__}: {error}") from error


class PlainJson(dict):
    """A mapping that is already plain JSON (an APL document, its data source): serialized as is.

    Walking a few hundred nodes of a static document on every response costs more than the rest
    of the response together.
    """


_PLAIN_JSON = frozenset({str, int, float, bool, type(None), PlainJson})


def _is_extended_calendar_date(text: str) -> bool:
    # fromisoformat also takes ISO week dates ("2026-W48-3"), which dateutil rejects: keep those on
    # the SDK's path so both serializers agree on every input.
    return len(text) >= 10 and text[4] == "-" and text[7] == "-"


def _decimal_number(value: decimal.Decimal) -> int | float:
    return int(value) if value % 1 == 0 else float(value)


class _Field:
    """One JSON key of a model. Its converter is resolved on first use, so a type's module is
    imported only when a payload has that field: a cold start meets a few of the many declared."""

    __slots__ = ("attribute", "deferred", "_type_spec", "_resolve", "_convert")

    def __init__(self, attribute: str, type_spec: TypeSpec, deferred: bool,
                 resolve: Callable[[TypeSpec], Converter]) -> None:
        self.attribute = attribute
        self.deferred = deferred  # may hold models: built on first read (request envelopes only)
        self._type_spec = type_spec
        self._resolve = resolve
        self._convert: Converter | None = None

    def convert(self, payload: Any) -> Any:
        if self._convert is None:
            self._convert = self._resolve(self._type_spec)
        return self._convert(payload)


@dataclass(frozen=True)
class _ModelPlan:
    model_class: type
    fields: dict[str, _Field]
    defaults: dict[str, Any]


class FastSerializer(DefaultSerializer):
    """DefaultSerializer with cached type resolution, fast timestamps and lenient requests."""

    # The SDK's dateutil-based parser, for the timestamps fromisoformat rejects.
    _sdk_parse_timestamp = DefaultSerializer._DefaultSerializer__deserialize_datetime  # type: ignore[attr-defined]

    def __init__(self) -> None:
        # Filled on first use, per type and per (lazy) request envelope or (eager) API reply; two
        # threads may build the same entry at once, which is harmless.
        self._converters: dict[tuple[TypeSpec, bool], Converter] = {}
        self._plans: dict[tuple[type, bool], _ModelPlan] = {}
        self._serializers: dict[type, Callable[[Any], Any]] = {}

    # Public interface

    def deserialize_envelope(self, payload: dict) -> RequestEnvelope:
        """The request envelope for an already-parsed JSON body; raises SerializationException."""
        _require(payload, dict, "request envelope")
        _require(payload.get("request"), dict, "request envelope 'request'")
        return self._convert(payload, RequestEnvelope, lazy=True)

    def deserialize(self, payload: str | None, obj_type: TypeSpec) -> Any:
        """The SDK's signature, used by its service clients for API response bodies."""
        if payload is None:
            return None
        try:
            parsed = json.loads(payload)
        except (ValueError, TypeError):
            raise SerializationException(f"Couldn't parse response body: {payload}") from None
        return self._convert(parsed, obj_type, lazy=False)

    def serialize(self, obj: Any) -> Any:
        if type(obj) in _PLAIN_JSON:  # most values in a response; skip the per-type lookup
            return obj
        try:
            serializer = self._serializers[type(obj)]
        except KeyError:
            serializer = self._serializers[type(obj)] = self._build_serializer(type(obj))
        return serializer(obj)

    # Deserialization

    def _convert(self, payload: Any, obj_type: TypeSpec, *, lazy: bool) -> Any:
        return None if payload is None else _converted(self._converter(obj_type, lazy), payload)

    def _converter(self, obj_type: TypeSpec, lazy: bool) -> Converter:
        try:
            return self._converters[obj_type, lazy]
        except KeyError:
            converter = self._converters[obj_type, lazy] = self._build_converter(obj_type, lazy)
            return converter

    def _resolve(self, type_name: str) -> type:
        return self.NATIVE_TYPES_MAPPING.get(type_name) or _load_class(type_name)

    def _may_hold_models(self, obj_type: TypeSpec) -> bool:
        """Whether values of this type may hold models (a model, or a list or dict of them): those
        are deferred. Told from the type's name, importing nothing; an enum's name reads the same
        as a model's, and deferring one costs a lookup on first read, nothing more."""
        if not isinstance(obj_type, str):
            return hasattr(obj_type, "deserialized_types")
        return any(name not in self.NATIVE_TYPES_MAPPING and name not in _CONTAINERS
                   for name in _TYPE_NAMES.findall(obj_type))

    def _build_converter(self, obj_type: TypeSpec, lazy: bool) -> Converter:
        if isinstance(obj_type, str):
            if obj_type.startswith("list["):
                return self._list_converter(obj_type, lazy)
            if obj_type.startswith("dict("):
                return self._dict_converter(obj_type, lazy)
            obj_type = self._resolve(obj_type)
        if obj_type in self.PRIMITIVE_TYPES:
            return _primitive_converter(obj_type)
        if obj_type is object:
            return _identity
        if obj_type in (datetime, date):
            return self._timestamp_converter(obj_type)
        if isinstance(obj_type, type) and issubclass(obj_type, Enum):
            return _enum_converter(obj_type)
        if hasattr(obj_type, "deserialized_types"):
            return self._model_converter(obj_type, lazy)
        return _identity

    def _list_converter(self, obj_type: str, lazy: bool) -> Converter:
        match = _LIST_TYPE.match(obj_type)
        if match is None:
            raise SerializationException(f"unsupported type {obj_type!r}")
        # "list[a, b]" means one type per position, as in the SDK.
        converters = [self._converter(name.strip(), lazy) for name in match.group(1).split(",")]
        if len(converters) > 1:
            return lambda payload: [None if item is None else convert_item(item)
                                    for convert_item, item in zip(converters, _require(payload, list, obj_type))]
        convert_item = converters[0]
        return lambda payload: [None if item is None else convert_item(item)
                                for item in _require(payload, list, obj_type)]

    def _dict_converter(self, obj_type: str, lazy: bool) -> Converter:
        match = _DICT_TYPE.match(obj_type)
        if match is None:
            raise SerializationException(f"unsupported type {obj_type!r}")
        convert_value = self._converter(match.group(2), lazy)

        def convert(payload: Any) -> dict:
            return {key: None if value is None else convert_value(value)
                    for key, value in _require(payload, dict, obj_type).items()}
        return convert

    def _timestamp_converter(self, target: type[date]) -> Converter:
        def convert(payload: Any) -> date:
            if isinstance(payload, str) and _is_extended_calendar_date(payload):
                try:
                    parsed = datetime.fromisoformat(payload)
                except ValueError:
                    pass  # e.g. hour 24: the SDK's parser decides
                else:
                    return parsed if target is datetime else parsed.date()
            return self._sdk_parse_timestamp(payload, target)
        return convert

    def _model_converter(self, model_type: type, lazy: bool) -> Converter:
        if hasattr(model_type, "get_real_child_model"):
            return lambda payload: self._build_polymorphic(model_type, payload, lazy)
        return lambda payload: self._build_model(model_type, payload, lazy)

    def _build_polymorphic(self, base: type, payload: Any, lazy: bool) -> Any:
        """Pick the concrete class from the discriminator field, as the SDK does."""
        _require(payload, dict, base.__name__)
        discriminator = payload.get(base.json_discriminator_key)
        if not isinstance(discriminator, str):
            raise SerializationException(f"{base.__name__}: '{base.json_discriminator_key}' must be a string")
        class_path = base.get_real_child_model(payload)
        if class_path is not None:
            return self._build_model(_load_class(class_path), payload, lazy)
        if issubclass(base, Request):
            return self._build_model(UnknownRequest, payload, lazy)
        return None  # a nested object of a kind newer than the installed ask-sdk-model

    def _build_model(self, model_type: type, payload: Any, lazy: bool) -> Any:
        plan = self._plans.get((model_type, lazy)) or self._plan(model_type, lazy)
        # Copying the attributes a default-constructed model has is several times faster than
        # calling the generated __init__ with every keyword, and gives the same object.
        model = object.__new__(plan.model_class)
        attributes = model.__dict__  # the generated models are plain classes: no properties to bypass
        attributes.update(plan.defaults)
        deferred = None
        for key, value in _require(payload, dict, model_type.__name__).items():
            field = plan.fields.get(key)
            if field is None:  # unknown JSON fields are ignored
                continue
            if value is None:
                attributes[field.attribute] = None
            elif field.deferred:
                if deferred is None:
                    deferred = attributes[_DEFERRED] = {}
                deferred[field.attribute] = (field.convert, value)
                del attributes[field.attribute]  # so that the first read reaches _Deferred.__getattr__
            else:
                attributes[field.attribute] = field.convert(value)
        return model

    def _plan(self, model_type: type, lazy: bool) -> _ModelPlan:
        """JSON key -> field, and the default instance's attributes. Converters are resolved on a
        field's first use, so self-referencing models need nothing special."""
        attribute_map = getattr(model_type, "attribute_map", {})
        defaults = dict(model_type().__dict__)
        if not all(isinstance(value, _IMMUTABLE_DEFAULTS) for value in defaults.values()):
            raise TypeError(f"{model_type.__name__} has a mutable default; copying it would share state")
        resolve = partial(self._converter, lazy=lazy)
        fields = {attribute_map.get(attribute, attribute):
                  _Field(attribute, type_spec, lazy and self._may_hold_models(type_spec), resolve)
                  for attribute, type_spec in model_type.deserialized_types.items()}
        deferring = any(field.deferred for field in fields.values())
        plan = self._plans[model_type, lazy] = _ModelPlan(
            model_class=_deferred_class(model_type) if deferring else model_type, fields=fields, defaults=defaults)
        return plan

    # Serialization

    def _build_serializer(self, obj_type: type) -> Callable[[Any], Any]:
        """The SDK's rule for one type, tried in the SDK's order so a type matching two rules gets the same one."""
        if obj_type is type(None) or issubclass(obj_type, self.PRIMITIVE_TYPES):
            return _identity
        if issubclass(obj_type, list):
            return lambda obj: [self.serialize(item) for item in obj]
        if issubclass(obj_type, tuple):
            return lambda obj: tuple(self.serialize(item) for item in obj)
        if issubclass(obj_type, (datetime, date)):
            return obj_type.isoformat
        if issubclass(obj_type, Enum):
            return lambda obj: obj.value
        if issubclass(obj_type, decimal.Decimal):
            return _decimal_number
        if issubclass(obj_type, dict):
            return lambda obj: {key: self.serialize(value) for key, value in obj.items()}
        if hasattr(obj_type, "deserialized_types"):
            return self._model_serializer(obj_type)
        return super().serialize

    def _model_serializer(self, model_type: type) -> Callable[[Any], dict]:
        # Unlike the SDK, this never writes to the class's attribute_map.
        attribute_map = getattr(model_type, "attribute_map", {})
        fields = [(attribute, attribute_map.get(attribute, attribute)) for attribute in model_type.deserialized_types]

        def serialize_model(obj: Any) -> dict:
            result = {}
            for attribute, key in fields:
                value = getattr(obj, attribute)
                if value is not None:
                    result[key] = self.serialize(value)
            return result
        return serialize_model


def strict_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the bytes that are sent. NaN and Infinity are not JSON: orjson writes
    them as null (nothing a reply is built from holds one: the session schema refuses them)."""
    return orjson.dumps(value)
