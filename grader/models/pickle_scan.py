"""Reading the `data.pkl` of a `torch.save` archive as data, without unpickling it.

`pickle.loads` runs whatever callables a pickle names. This module never calls it: it walks the
opcodes with `pickletools.genops` (a parser, not an interpreter) and simulates the small subset a
state_dict needs: dicts, lists, tuples, numbers, strings, and a closed list of globals
(`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `torch.*Storage`, ...). Anything
else -- a class of the student's, `os.system`, `builtins.eval` -- is refused by name.

The result is plain data: tensors become `TensorRef` (dtype, shape, stride, offset, storage key),
so the grader can check every shape before the worker loads the file with
`torch.load(weights_only=True)`.
"""

from __future__ import annotations

import math
import pickletools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_OPCODES = 2_000_000
MAX_TUPLE_DEPTH = 64  # hashing tuples nested a million deep overflows the C stack (a crash)
MAX_MEMO = 1_000_000

STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
}
ITEM_SIZES = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4,
              "int16": 2, "int8": 1, "uint8": 1, "bool": 1}


class PickleRefused(Exception):
    """The pickle holds something other than plain data and tensors; the message says what."""

    def __init__(self, message: str, *, kind: str = "unsupported") -> None:
        super().__init__(message)
        self.kind = kind  # "module": a pickled class instance; "code": a dangerous callable


@dataclass(frozen=True)
class StorageRef:
    dtype: str
    key: str
    numel: int


@dataclass(frozen=True)
class TensorRef:
    dtype: str
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    offset: int
    storage: StorageRef

    def extent(self) -> int:
        """Elements of the storage the tensor reaches, from its offset."""
        if any(size == 0 for size in self.shape):
            return 0
        steps = zip(self.shape, self.stride, strict=True)
        return 1 + sum((size - 1) * step for size, step in steps)


@dataclass(frozen=True)
class _Global:
    module: str
    name: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


class _Mark:
    pass


_MARK = _Mark()


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple) or not all(isinstance(v, int) and v >= 0 for v in value):
        raise PickleRefused(f"a tensor's {what} is not a tuple of sizes")
    return tuple(value)


def _rebuild_tensor(args: tuple[Any, ...]) -> TensorRef:
    if len(args) < 4 or not isinstance(args[0], StorageRef) or not isinstance(args[1], int):
        raise PickleRefused("a tensor record has an unexpected form")
    storage, offset = args[0], args[1]
    shape, stride = _ints(args[2], "shape"), _ints(args[3], "stride")
    if len(shape) != len(stride) or offset < 0:
        raise PickleRefused("a tensor record has an unexpected form")
    tensor = TensorRef(storage.dtype, shape, stride, offset, storage)
    if offset + tensor.extent() > storage.numel:
        raise PickleRefused("a tensor reaches past the end of its storage")
    return tensor


def _rebuild_parameter(args: tuple[Any, ...]) -> TensorRef:
    if not args or not isinstance(args[0], TensorRef):
        raise PickleRefused("a parameter record has an unexpected form")
    return args[0]


def _ordered_dict(args: tuple[Any, ...]) -> dict[Any, Any]:
    if args not in ((), ([],)):
        raise PickleRefused("an OrderedDict record has an unexpected form")
    return {}


_CALLABLES: dict[str, Callable[[tuple[Any, ...]], Any]] = {
    "collections.OrderedDict": _ordered_dict,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
}
_STORAGE_TYPES = {f"torch.{name}": dtype for name, dtype in STORAGE_DTYPES.items()}
_DANGEROUS_MODULES = ("os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys",
                      "shutil", "socket", "importlib", "runpy", "pty", "io", "ctypes", "code")


# os.system pickles as posix.system (nt.system on Windows): say the name the student wrote
_PUBLIC_MODULES = {"posix": "os", "nt": "os", "__builtin__": "builtins"}


def _refuse_global(glob: _Global) -> PickleRefused:
    root = glob.module.split(".")[0]
    if glob.module in _DANGEROUS_MODULES or root in _DANGEROUS_MODULES:
        public = f"{_PUBLIC_MODULES.get(glob.module, glob.module)}.{glob.name}"
        return PickleRefused(f"it calls {public}, code that a weights file never needs; "
                             "the grader does not run it", kind="code")
    if glob.name[:1].isupper():
        return PickleRefused(f"it holds a pickled object of class {glob.dotted} (a whole model or "
                             "other Python object), not only tensors", kind="module")
    return PickleRefused(f"it refers to {glob.dotted}, which a state_dict does not need",
                         kind="code")


class _Machine:
    """A stack machine for the data-only subset of pickle."""

    def __init__(self, persistent_load: Callable[[Any], StorageRef]) -> None:
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}
        self.persistent_load = persistent_load
        self.tuple_depth: dict[int, int] = {}  # id of a tuple built here -> how deep it nests

    def push_tuple(self, items: list[Any]) -> None:
        depth = 1 + max((self.tuple_depth.get(id(i), 1) for i in items if isinstance(i, tuple)), default=0)
        if depth > MAX_TUPLE_DEPTH:
            raise PickleRefused("the pickle nests tuples too deeply")
        built = tuple(items)
        self.tuple_depth[id(built)] = depth
        self.stack.append(built)

    def pop_mark(self) -> list[Any]:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index] is _MARK:
                items = self.stack[index + 1:]
                del self.stack[index:]
                return items
        raise PickleRefused("the pickle is malformed (no mark)")

    def pop(self) -> Any:
        if not self.stack:
            raise PickleRefused("the pickle is malformed (empty stack)")
        return self.stack.pop()

    def top(self) -> Any:
        if not self.stack:
            raise PickleRefused("the pickle is malformed (empty stack)")
        return self.stack[-1]

    def step(self, name: str, arg: Any) -> bool:
        """Apply one opcode; True at STOP."""
        handler = _OPS.get(name)
        if handler is None and name in _NEWER_PROTOCOL_OPS:
            raise PickleRefused("it was saved with pickle_protocol 4 or 5, which "
                                "torch.load(weights_only=True) cannot read; save it with "
                                "torch.save's default protocol")
        if handler is None:
            raise PickleRefused(f"it uses the pickle operation {name}, which a state_dict does "
                                "not need")
        return handler(self, arg)


def _push(value: Any) -> Callable[[_Machine, Any], bool]:
    def run(m: _Machine, _arg: Any) -> bool:
        m.stack.append(value() if callable(value) else value)
        return False
    return run


def _push_arg(m: _Machine, arg: Any) -> bool:
    m.stack.append(arg)
    return False


def _tuple_n(n: int) -> Callable[[_Machine, Any], bool]:
    def run(m: _Machine, _arg: Any) -> bool:
        m.push_tuple([m.pop() for _ in range(n)][::-1])
        return False
    return run


def _op_tuple(m: _Machine, _arg: Any) -> bool:
    m.push_tuple(m.pop_mark())
    return False






def _pairs_into(target: Any, items: list[Any]) -> dict[Any, Any]:
    if not isinstance(target, dict) or len(items) % 2:
        raise PickleRefused("the pickle sets items on something that is not a dict")
    for key, value in zip(items[::2], items[1::2], strict=True):
        if not isinstance(key, str | int | float | bool | tuple) and key is not None:
            raise PickleRefused("a dict key is not plain data")
        try:
            target[key] = value
        except TypeError:  # a tuple holding a list or a dict
            raise PickleRefused("a dict key is not plain data") from None
    return target


def _op_setitem(m: _Machine, _arg: Any) -> bool:
    value, key = m.pop(), m.pop()
    _pairs_into(m.top(), [key, value])
    return False


def _op_setitems(m: _Machine, _arg: Any) -> bool:
    items = m.pop_mark()
    _pairs_into(m.top(), items)
    return False


def _extend_list(target: Any, items: list[Any]) -> None:
    if not isinstance(target, list):
        raise PickleRefused("the pickle appends to something that is not a list")
    target.extend(items)


def _op_append(m: _Machine, _arg: Any) -> bool:
    value = m.pop()
    _extend_list(m.top(), [value])
    return False


def _op_appends(m: _Machine, _arg: Any) -> bool:
    items = m.pop_mark()
    _extend_list(m.top(), items)
    return False


def _op_global(m: _Machine, arg: Any) -> bool:
    module, _, name = str(arg).partition(" ")
    m.stack.append(_resolve_global(module, name))
    return False




def _resolve_global(module: str, name: str) -> _Global:
    glob = _Global(module, name)
    if glob.dotted not in _CALLABLES and glob.dotted not in _STORAGE_TYPES:
        raise _refuse_global(glob)
    return glob


def _op_reduce(m: _Machine, _arg: Any) -> bool:
    args, func = m.pop(), m.pop()
    allowed = isinstance(func, _Global) and func.dotted in _CALLABLES
    if not allowed or not isinstance(args, tuple):
        raise PickleRefused("the pickle calls something that is not a tensor or dict constructor")
    m.stack.append(_CALLABLES[func.dotted](args))
    return False


def _op_newobj(m: _Machine, _arg: Any) -> bool:
    args, cls = m.pop(), m.pop()
    if not isinstance(cls, _Global) or cls.dotted != "collections.OrderedDict":
        raise PickleRefused("the pickle creates an object that is not a dict")
    m.stack.append(_ordered_dict(args if isinstance(args, tuple) else (args,)))
    return False


def _op_build(m: _Machine, _arg: Any) -> bool:
    state = m.pop()
    target = m.top()
    # OrderedDict state carries the state_dict's `_metadata`; tensors may carry empty state.
    if not isinstance(target, dict | TensorRef) or not isinstance(state, dict | tuple | type(None)):
        raise PickleRefused("the pickle sets the state of an object that is not a dict or tensor")
    return False


def _op_persid(m: _Machine, _arg: Any) -> bool:
    m.stack.append(m.persistent_load(m.pop()))
    return False


def _op_put(m: _Machine, arg: Any) -> bool:
    if len(m.memo) >= MAX_MEMO:
        raise PickleRefused("the pickle is too large")
    m.memo[int(arg)] = m.top()
    return False




def _op_get(m: _Machine, arg: Any) -> bool:
    if int(arg) not in m.memo:
        raise PickleRefused("the pickle is malformed (memo)")
    m.stack.append(m.memo[int(arg)])
    return False








def _op_nothing(_m: _Machine, _arg: Any) -> bool:
    return False


def _op_stop(_m: _Machine, _arg: Any) -> bool:
    return True


# Exactly the opcodes torch's weights_only unpickler reads (pickle protocol 2, torch.save's
# default), so that whatever passes here also loads in the worker.
_OPS: dict[str, Callable[[_Machine, Any], bool]] = {
    "PROTO": _op_nothing, "STOP": _op_stop, "MARK": _push(_MARK),
    "NONE": _push(None), "NEWTRUE": _push(True), "NEWFALSE": _push(False),
    "BININT": _push_arg, "BININT1": _push_arg, "BININT2": _push_arg, "LONG1": _push_arg,
    "BINFLOAT": _push_arg, "BINUNICODE": _push_arg, "SHORT_BINSTRING": _push_arg,
    "EMPTY_TUPLE": _push(()), "TUPLE": _op_tuple, "TUPLE1": _tuple_n(1), "TUPLE2": _tuple_n(2),
    "TUPLE3": _tuple_n(3),
    "EMPTY_LIST": _push(list), "APPEND": _op_append, "APPENDS": _op_appends,
    "EMPTY_DICT": _push(dict), "SETITEM": _op_setitem, "SETITEMS": _op_setitems,
    "GLOBAL": _op_global, "REDUCE": _op_reduce, "NEWOBJ": _op_newobj, "BUILD": _op_build,
    "BINPERSID": _op_persid, "BINPUT": _op_put, "LONG_BINPUT": _op_put,
    "BINGET": _op_get, "LONG_BINGET": _op_get,
}
_NEWER_PROTOCOL_OPS = {"FRAME", "MEMOIZE", "STACK_GLOBAL", "SHORT_BINUNICODE", "BINUNICODE8",
                       "SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "BYTEARRAY8", "NEWOBJ_EX"}


def scan_pickle(data: bytes, persistent_load: Callable[[Any], StorageRef]) -> Any:
    """The pickled object as plain data with `TensorRef` leaves, or `PickleRefused`.

    Globals are checked first over the whole pickle, so a refused class is named even when an
    earlier opcode would also fail.
    """
    ops = []
    try:
        for item in pickletools.genops(data):  # counted as read: a list of every opcode of a
            ops.append(item)  # 32 MB pickle would take gigabytes
            if len(ops) > MAX_OPCODES:
                raise PickleRefused("the pickle is too large")
    except PickleRefused:
        raise
    except Exception as err:  # genops raises ValueError and friends on malformed input
        raise PickleRefused(f"it is not a readable pickle ({err})") from None
    for op, arg, _pos in ops:
        if op.name == "GLOBAL":
            module, _, name = str(arg).partition(" ")
            _resolve_global(module, name)
    machine = _Machine(persistent_load)
    for op, arg, _pos in ops:
        if machine.step(op.name, arg):
            return machine.pop()
    raise PickleRefused("the pickle is malformed (no STOP)")


def storage_loader(present: Callable[[str], int | None]) -> Callable[[Any], StorageRef]:
    """A persistent_load for torch.save's `('storage', torch.FloatStorage, key, location, numel)`;
    `present(key)` gives the byte size of `data/<key>` in the archive (None if absent)."""

    def load(pid: Any) -> StorageRef:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise PickleRefused("it refers to external data that is not a tensor storage")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _Global) or storage_type.dotted not in _STORAGE_TYPES:
            raise PickleRefused("a storage has an unknown type")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise PickleRefused("a storage record has an unexpected form")
        dtype = _STORAGE_TYPES[storage_type.dotted]
        size = present(key)
        if size is None:
            raise PickleRefused(f"storage {key!r} is missing from the archive")
        if size < numel * ITEM_SIZES[dtype]:
            raise PickleRefused(f"storage {key!r} is shorter than its record says")
        return StorageRef(dtype, key, numel)

    return load


def numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
