//! `rshmemrun`: launch an rshmem (OpenSHMEM) job. See the crate docs.

fn main() {
    rshmem_launcher::main_entry()
}
