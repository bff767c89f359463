//! Links the test task as a Resurgo task image (static, at 4 MiB).
fn main() {
    task_link::emit()
}
