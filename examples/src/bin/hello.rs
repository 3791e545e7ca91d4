//! Every PE says who it is: `rshmemrun -n 4 hello`.
fn main() {
    let shmem = rshmem_examples::init_or_exit("hello");
    println!("PE {} of {}", shmem.my_pe(), shmem.n_pes());
}
