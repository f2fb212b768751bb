//! # deskhost-componentize
//!
//! Turns the core module a deskhost plugin crate links into the component
//! the host loads, answering inside the module the WASI calls that the host
//! would answer with nothing.
//!
//! Rust's standard library makes every plugin import WASI's standard
//! streams, environment and terminals (its panic message goes to stderr,
//! and it reads `RUST_BACKTRACE`), though a plugin never sees any of them:
//! the host gives it no environment, an empty stdin, a stdout and stderr
//! that swallow what is written, and no terminal. Each imported interface
//! still costs the host a component instance at every call: thirteen
//! instances, nineteen functions and two helper modules for a widget that
//! calls none of them, about a fifth of a pooled call (BENCHMARKS.md). All
//! but `exit` (one instance, one function) can be answered inside.
//!
//! [`componentize`] replaces those imports with functions inside the module
//! that give exactly the host's answers, then encodes the component with
//! `wit-component` as the Rust toolchain's linker would. The answers are
//! only right when nothing else can hand the module a stream, a pollable or
//! a terminal, so a module importing any WASI interface beyond the standard
//! streams, environment, terminals, `exit`, `random` and `wall-clock` (files,
//! sockets, the monotonic clock) is encoded as it is.
//!
//! The core module comes from a normal `cargo build --target wasm32-wasip2`
//! with [`LINK_ARG`] passed to the linker (`--config` [`cargo_config`]),
//! which stops it before it makes the component. [`encode`] makes the
//! component without answering anything, as the linker would have.

use std::borrow::Cow;
use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{CodeSection, EntityType, Function, FunctionSection, ImportSection, MemArg};
use wasmparser::ValType::{self, I32};
use wasmparser::{CompositeInnerType, Parser, Payload, TypeRef};

/// The linker argument (for `-C link-arg=`) that makes the Rust toolchain's
/// `wasm32-wasip2` linker write the core module instead of the component.
pub const LINK_ARG: &str = "--skip-wit-component";

/// The `--config` argument for `cargo build --target wasm32-wasip2` that
/// passes [`LINK_ARG`] to the linker (added to the configured rustflags).
pub fn cargo_config() -> String {
    format!("target.wasm32-wasip2.rustflags=[\"-C\", \"link-arg={LINK_ARG}\"]")
}

/// What went wrong making a component from a core module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not a valid WebAssembly core module.
    #[error("the plugin's core module could not be read: {0}")]
    Read(#[from] wasmparser::BinaryReaderError),
    /// Rewriting the module failed.
    #[error("the plugin's core module could not be rewritten: {0}")]
    Rewrite(String),
    /// `wit-component` could not make a component of the module.
    #[error("the plugin's component could not be encoded: {0}")]
    Encode(String),
}

/// Makes the component of the core `module` a plugin crate linked with
/// [`LINK_ARG`], with the standard-stream, environment and terminal imports
/// answered inside it (see the crate documentation). A component (a crate
/// whose own configuration made the linker finish the job) is returned as
/// it is.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>, Error> {
    if Parser::is_component(module) {
        return Ok(module.to_vec());
    }
    encode(&answer_standard_io(module)?)
}

/// Makes the component of the core `module` as the Rust toolchain's linker
/// would have, every import kept. A component is returned as it is.
pub fn encode(module: &[u8]) -> Result<Vec<u8>, Error> {
    if Parser::is_component(module) {
        return Ok(module.to_vec());
    }
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| Error::Encode(format!("{e:#}")))
}

/// The host's answer to one WASI function, given inside the module.
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// Nothing to do: dropping a handle, blocking on a ready pollable.
    Nothing,
    /// Returns this value: a handle (the standard streams, a stream's
    /// pollable), or `true` (a pollable is ready).
    Value(i32),
    /// Writes `ok` (discriminant 0) at the return pointer: a write or flush
    /// to a stream that swallows everything, or `none` for "no terminal".
    OkOrNone,
    /// Writes `ok(65536)` at the return pointer: how much the stream takes
    /// now (`check-write`, the host's figure).
    Writable,
    /// Writes an empty list at the return pointer: no environment, no
    /// arguments.
    EmptyList,
}

/// Every WASI function the host answers with nothing: interface (without its
/// version), function, core signature and the answer.
type Entry = (
    &'static str,
    &'static str,
    &'static [ValType],
    &'static [ValType],
    Answer,
);

#[rustfmt::skip]
const ANSWERS: &[Entry] = &[
    ("wasi:io/error", "[resource-drop]error", &[I32], &[], Answer::Nothing),
    ("wasi:io/poll", "[resource-drop]pollable", &[I32], &[], Answer::Nothing),
    ("wasi:io/poll", "[method]pollable.block", &[I32], &[], Answer::Nothing),
    ("wasi:io/poll", "[method]pollable.ready", &[I32], &[I32], Answer::Value(1)),
    ("wasi:io/streams", "[resource-drop]input-stream", &[I32], &[], Answer::Nothing),
    ("wasi:io/streams", "[resource-drop]output-stream", &[I32], &[], Answer::Nothing),
    ("wasi:io/streams", "[method]output-stream.check-write", &[I32, I32], &[], Answer::Writable),
    ("wasi:io/streams", "[method]output-stream.write", &[I32, I32, I32, I32], &[], Answer::OkOrNone),
    ("wasi:io/streams", "[method]output-stream.blocking-write-and-flush", &[I32, I32, I32, I32], &[], Answer::OkOrNone),
    ("wasi:io/streams", "[method]output-stream.flush", &[I32, I32], &[], Answer::OkOrNone),
    ("wasi:io/streams", "[method]output-stream.blocking-flush", &[I32, I32], &[], Answer::OkOrNone),
    ("wasi:io/streams", "[method]output-stream.subscribe", &[I32], &[I32], Answer::Value(1)),
    ("wasi:cli/stdin", "get-stdin", &[], &[I32], Answer::Value(1)),
    ("wasi:cli/stdout", "get-stdout", &[], &[I32], Answer::Value(1)),
    ("wasi:cli/stderr", "get-stderr", &[], &[I32], Answer::Value(2)),
    ("wasi:cli/terminal-input", "[resource-drop]terminal-input", &[I32], &[], Answer::Nothing),
    ("wasi:cli/terminal-output", "[resource-drop]terminal-output", &[I32], &[], Answer::Nothing),
    ("wasi:cli/terminal-stdin", "get-terminal-stdin", &[I32], &[], Answer::OkOrNone),
    ("wasi:cli/terminal-stdout", "get-terminal-stdout", &[I32], &[], Answer::OkOrNone),
    ("wasi:cli/terminal-stderr", "get-terminal-stderr", &[I32], &[], Answer::OkOrNone),
    ("wasi:cli/environment", "get-environment", &[I32], &[], Answer::EmptyList),
    ("wasi:cli/environment", "get-arguments", &[I32], &[], Answer::EmptyList),
    ("wasi:cli/environment", "initial-cwd", &[I32], &[], Answer::OkOrNone),
];

/// WASI interfaces a module may keep importing without making the answers
/// wrong: none of them hands out a stream, pollable or terminal.
const KEPT: &[&str] = &[
    "wasi:cli/exit",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:clocks/wall-clock",
];

/// The answer to import `module`/`name` of signature `ty`, if the host
/// answers it with nothing; `Err` when the module imports a WASI interface
/// that could hand it a real stream or pollable.
fn answer_for(
    module: &str,
    name: &str,
    ty: Option<&wasmparser::FuncType>,
) -> Result<Option<Answer>, ()> {
    if !module.starts_with("wasi:") {
        return Ok(None);
    }
    let interface = module.split('@').next().unwrap_or(module);
    let answer = ANSWERS.iter().find(|(i, n, params, results, _)| {
        *i == interface
            && *n == name
            && ty.is_some_and(|ty| ty.params() == *params && ty.results() == *results)
    });
    match answer {
        Some((.., answer)) => Ok(Some(*answer)),
        None if KEPT.contains(&interface) => Ok(None),
        None => Err(()),
    }
}

/// `module` with the imports the host answers with nothing replaced by
/// functions giving the same answers; `module` itself when it has none, or
/// imports some other WASI interface (see the crate documentation).
pub fn answer_standard_io(module: &[u8]) -> Result<Cow<'_, [u8]>, Error> {
    let mut types: Vec<Option<wasmparser::FuncType>> = Vec::new();
    // Per imported function, in order: its answer, if it gets one.
    let mut imports: Vec<(u32, Option<Answer>)> = Vec::new();
    let mut has_memory = false;
    for payload in Parser::new(0).parse_all(module) {
        match payload? {
            Payload::TypeSection(section) => {
                for group in section {
                    for sub in group?.into_types() {
                        types.push(match sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import?;
                    match import.ty {
                        TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                            let signature = types.get(ty as usize).and_then(Option::as_ref);
                            match answer_for(import.module, import.name, signature) {
                                Ok(answer) => imports.push((ty, answer)),
                                Err(()) => return Ok(Cow::Borrowed(module)),
                            }
                        }
                        TypeRef::Memory(_) => has_memory = true,
                        _ => {}
                    }
                }
            }
            Payload::MemorySection(section) => has_memory |= section.count() > 0,
            _ => {}
        }
    }
    if !has_memory || imports.iter().all(|(_, answer)| answer.is_none()) {
        return Ok(Cow::Borrowed(module));
    }

    // Kept imports come first; the answers take the answered imports' places
    // as the first functions defined, so the module's own functions keep
    // their indices.
    let kept = imports.iter().filter(|(_, a)| a.is_none()).count() as u32;
    let (mut next_kept, mut next_answer) = (0, kept);
    let indices = imports
        .iter()
        .map(|(_, answer)| {
            let slot = if answer.is_none() {
                &mut next_kept
            } else {
                &mut next_answer
            };
            *slot += 1;
            *slot - 1
        })
        .collect();
    let mut rewriter = Rewriter {
        indices,
        answers: imports
            .iter()
            .filter_map(|&(ty, answer)| {
                Some((ty, answer?, types[ty as usize].as_ref()?.params().len()))
            })
            .collect(),
        kept,
        next_import: 0,
    };
    let mut out = wasm_encoder::Module::new();
    rewriter
        .parse_core_module(&mut out, Parser::new(0), module)
        .map_err(|e| Error::Rewrite(e.to_string()))?;
    Ok(Cow::Owned(out.finish()))
}

/// The re-encoder that moves the answered imports into the module.
struct Rewriter {
    /// New index of each imported function.
    indices: Vec<u32>,
    /// Type, answer and parameter count of each answered import, in order.
    answers: Vec<(u32, Answer, usize)>,
    /// How many imported functions stay imports: an import whose new index
    /// is at least this is answered inside the module.
    kept: u32,
    /// Imported functions seen so far.
    next_import: usize,
}

impl Reencode for Rewriter {
    type Error = Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<Infallible>> {
        Ok(self.indices.get(func as usize).copied().unwrap_or(func))
    }

    fn parse_imports(
        &mut self,
        section: &mut ImportSection,
        imports: wasmparser::Imports<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        for import in imports {
            let (_, import) = import?;
            if let TypeRef::Func(_) | TypeRef::FuncExact(_) = import.ty {
                let index = self.indices[self.next_import];
                self.next_import += 1;
                if index >= self.kept {
                    continue;
                }
            }
            let ty: EntityType = self.entity_type(import.ty)?;
            section.import(import.module, import.name, ty);
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        for (ty, ..) in &self.answers {
            functions.function(*ty);
        }
        reencode::utils::parse_function_section(self, functions, section)
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        for &(_, answer, params) in &self.answers {
            code.function(&answer_body(answer, params));
        }
        reencode::utils::parse_code_section(self, code, section)
    }
}

/// The body of a function giving `answer`, with `params` parameters (the
/// last one the return pointer, when the answer writes one).
fn answer_body(answer: Answer, params: usize) -> Function {
    let mut f = Function::new([]);
    let ret = params.saturating_sub(1) as u32;
    let at = |offset, align| MemArg {
        offset,
        align,
        memory_index: 0,
    };
    let mut body = f.instructions();
    match answer {
        Answer::Nothing => {}
        Answer::Value(value) => {
            body.i32_const(value);
        }
        Answer::OkOrNone => {
            body.local_get(ret).i32_const(0).i32_store8(at(0, 0));
        }
        Answer::Writable => {
            body.local_get(ret).i32_const(0).i32_store8(at(0, 0));
            body.local_get(ret).i64_const(64 << 10).i64_store(at(8, 3));
        }
        Answer::EmptyList => {
            body.local_get(ret).i32_const(0).i32_store(at(0, 2));
            body.local_get(ret).i32_const(0).i32_store(at(4, 2));
        }
    }
    body.end();
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, ExportKind, ExportSection, FunctionSection, ImportSection, MemorySection,
        MemoryType, Module, TypeSection, ValType,
    };
    use wasmparser::{Operator, Validator};

    /// A module importing `imports` (module, name, parameters, result) in
    /// that order, with a memory and an exported `run` that calls each import
    /// with zeros (the first defined function, so its index is the imports'
    /// count).
    fn module(imports: &[(&str, &str, &[ValType], Option<ValType>)]) -> Vec<u8> {
        let mut types = TypeSection::new();
        let mut section = ImportSection::new();
        for (i, (module, name, params, result)) in imports.iter().enumerate() {
            types.ty().function(params.iter().copied(), *result);
            section.import(module, name, EntityType::Function(i as u32));
        }
        types.ty().function([], []);
        let mut functions = FunctionSection::new();
        functions.function(imports.len() as u32);
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut exports = ExportSection::new();
        exports.export("run", ExportKind::Func, imports.len() as u32);
        let mut run = Function::new([]);
        let mut body = run.instructions();
        for (i, (_, _, params, result)) in imports.iter().enumerate() {
            for p in params.iter() {
                match p {
                    ValType::I64 => body.i64_const(0),
                    _ => body.i32_const(0),
                };
            }
            body.call(i as u32);
            if result.is_some() {
                body.drop();
            }
        }
        body.end();
        let mut code = CodeSection::new();
        code.function(&run);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&section)
            .section(&functions)
            .section(&memories)
            .section(&exports)
            .section(&code);
        module.finish()
    }

    /// The module's function imports, and the functions `run` calls.
    fn imports_and_calls(module: &[u8]) -> (Vec<String>, Vec<u32>) {
        Validator::new().validate_all(module).unwrap();
        let (mut imports, mut calls) = (Vec::new(), Vec::new());
        for payload in Parser::new(0).parse_all(module) {
            match payload.unwrap() {
                Payload::ImportSection(section) => {
                    for import in section.into_imports() {
                        let import = import.unwrap();
                        imports.push(format!("{} {}", import.module, import.name));
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    calls.clear();
                    for op in body.get_operators_reader().unwrap() {
                        if let Operator::Call { function_index } = op.unwrap() {
                            calls.push(function_index);
                        }
                    }
                }
                _ => {}
            }
        }
        (imports, calls)
    }

    const I: ValType = ValType::I32;

    #[test]
    fn standard_io_imports_move_into_the_module_and_the_rest_keep_their_order() {
        let original = module(&[
            ("wasi:cli/stderr@0.2.0", "get-stderr", &[], Some(I)),
            ("deskhost:plugin/log@0.1.1", "log", &[I, I, I], None),
            ("wasi:cli/environment@0.2.0", "get-environment", &[I], None),
            ("wasi:cli/exit@0.2.0", "exit", &[I], None),
            (
                "wasi:io/streams@0.2.0",
                "[method]output-stream.check-write",
                &[I, I],
                None,
            ),
        ]);
        let answered = answer_standard_io(&original).unwrap();
        let (imports, calls) = imports_and_calls(&answered);
        assert_eq!(
            imports,
            ["deskhost:plugin/log@0.1.1 log", "wasi:cli/exit@0.2.0 exit"]
        );
        // Kept imports first (0, 1), then the answers in import order (2..5):
        // `run`, defined after them, keeps index 5.
        assert_eq!(calls, [2, 0, 3, 1, 4]);
        assert!(matches!(answered, Cow::Owned(_)));
    }

    #[test]
    fn a_module_reaching_for_more_of_wasi_is_left_as_it_is() {
        for other in [
            (
                "wasi:filesystem/preopens@0.2.0",
                "get-directories",
                &[I][..],
                None,
            ),
            (
                "wasi:clocks/monotonic-clock@0.2.0",
                "subscribe-duration",
                &[ValType::I64],
                Some(I),
            ),
            // A known function with an unexpected signature.
            ("wasi:cli/stderr@0.2.0", "get-stderr", &[I], None),
        ] {
            let original = module(&[("wasi:cli/stdout@0.2.0", "get-stdout", &[], Some(I)), other]);
            let kept = answer_standard_io(&original).unwrap();
            assert!(matches!(kept, Cow::Borrowed(_)), "{other:?}");
        }
    }

    #[test]
    fn a_module_becomes_a_component_and_a_component_stays_as_it_is() {
        // No WIT metadata says where `log` comes from: encoding says so.
        let original = module(&[("deskhost:plugin/log@0.1.1", "log", &[I, I, I], None)]);
        let e = componentize(&original).unwrap_err();
        assert!(matches!(e, Error::Encode(_)), "{e}");
        // Answered, nothing is left to import.
        let original = module(&[("wasi:cli/stderr@0.2.0", "get-stderr", &[], Some(I))]);
        assert!(Parser::is_component(&componentize(&original).unwrap()));
        let component = wasm_encoder::Component::new().finish();
        assert_eq!(componentize(&component).unwrap(), component);
        assert_eq!(encode(&component).unwrap(), component);
    }

    #[test]
    fn a_module_without_standard_io_is_left_as_it_is() {
        let original = module(&[("wasi:cli/exit@0.2.0", "exit", &[I], None)]);
        assert!(matches!(
            answer_standard_io(&original).unwrap(),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            answer_standard_io(b"\0asm\x01\0\0\0\x7f"),
            Err(Error::Read(_))
        ));
    }
}
