//! `oshrun`: the OpenSHMEM-standard name of `rshmemrun`.

fn main() {
    rshmem_launcher::main_entry()
}
