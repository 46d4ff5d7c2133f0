//! The call stack: one frame per running FLIN function.
//!
//! Frames live in slots that are reused: pushing a call writes the fields of a free slot
//! in place instead of building a frame and copying it in (that copy, read back as
//! wider words than it was written, stalled the CPU on every call). A slot above the
//! top holds no closure, so nothing is kept alive by a finished call.

use std::rc::Rc;

use crate::value::Closure;

pub struct Frame {
    /// The running function, by index in the program.
    pub function: usize,
    pub closure: Option<Rc<Closure>>,
    pub pc: usize,
    pub base: usize,
    /// Absolute slot of the caller's register that receives the result.
    pub ret: usize,
}

#[derive(Default)]
pub struct CallStack {
    slots: Vec<Frame>,
    depth: usize,
}

impl CallStack {
    pub fn with_capacity(capacity: usize) -> CallStack {
        CallStack {
            slots: Vec::with_capacity(capacity),
            depth: 0,
        }
    }

    /// Frames running.
    #[inline]
    pub fn len(&self) -> usize {
        self.depth
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.depth == 0
    }

    #[inline]
    pub fn push(&mut self, function: usize, closure: Option<Rc<Closure>>, base: usize, ret: usize) {
        match self.slots.get_mut(self.depth) {
            Some(slot) => {
                slot.function = function;
                slot.closure = closure;
                slot.pc = 0;
                slot.base = base;
                slot.ret = ret;
            }
            None => self.slots.push(Frame {
                function,
                closure,
                pc: 0,
                base,
                ret,
            }),
        }
        self.depth += 1;
    }

    /// Ends the top frame; gives the register its result goes to.
    #[inline]
    pub fn pop(&mut self) -> Option<usize> {
        let top = self.depth.checked_sub(1)?;
        let slot = self.slots.get_mut(top)?;
        slot.closure = None;
        self.depth = top;
        Some(slot.ret)
    }

    #[inline]
    pub fn last(&self) -> Option<&Frame> {
        self.slots.get(self.depth.checked_sub(1)?)
    }

    #[inline]
    pub fn last_mut(&mut self) -> Option<&mut Frame> {
        self.slots.get_mut(self.depth.checked_sub(1)?)
    }

    /// Ends every frame above the first `depth`.
    pub fn truncate(&mut self, depth: usize) {
        while self.depth > depth {
            self.pop();
        }
    }

    /// The running frames, outermost first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Frame> {
        self.slots.iter().take(self.depth)
    }
}
