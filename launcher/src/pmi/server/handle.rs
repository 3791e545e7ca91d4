//! Request dispatch: [`PmiServer::handle`] answers one request of a connection
//! (`init`, `initack` with its rank claim, `get_maxes`, KVS `put`/`get`/`getbyidx`,
//! `barrier_in`, `finalize`, `abort`).

use rshmem_pmi::{sanitize_value, Message, ProcessMapping};

use super::{
    ct_eq, key_rank, lock, rank_token, rc_err, write_all, Connection, PmiServer, ServerEvent,
    KEYLEN_MAX, KVSNAME_MAX, MAX_KEYS_PER_RANK, VALLEN_MAX,
};

impl PmiServer {
    fn check_kvsname(&self, cmd: &str, msg: &Message) -> Option<Message> {
        match msg.get("kvsname") {
            Some(k) if k != self.kvsname => Some(rc_err(cmd, format!("unknown_kvsname_{k}"))),
            _ => None,
        }
    }

    /// Handles one request and returns the replies for the requesting
    /// connection (possibly none). Barrier completion writes `barrier_out` to
    /// every registered connection directly.
    pub fn handle(&self, conn: &mut Connection, msg: &Message) -> Vec<Message> {
        if conn.rank.is_none() && msg.cmd != "initack" {
            // Nothing but the introduction before the connection proved the secret.
            let reply = format!("{}_result", sanitize_value(&msg.cmd));
            return self.refuse(
                conn,
                &reply,
                "not_authenticated:_send_cmd=initack_pmiid=N_secret=HEX_first",
            );
        }
        let kvs_cmd = matches!(msg.cmd.as_str(), "put" | "get" | "getbyidx" | "barrier_in");
        if kvs_cmd && !conn.initialized {
            let reply = match msg.cmd.as_str() {
                "put" => "put_result",
                "get" => "get_result",
                "getbyidx" => "getbyidx_results",
                _ => "barrier_out",
            };
            return vec![rc_err(reply, "rank_not_initialized_(send_cmd=init_first)")];
        }
        let need_rank = |cmd: &str| -> Result<usize, Message> {
            conn.rank
                .ok_or_else(|| rc_err(cmd, "rank_unknown_(send_cmd=initack_pmiid=ID_first)"))
        };
        match msg.cmd.as_str() {
            "init" => {
                let ver = msg.get("pmi_version").unwrap_or("1");
                let ok = ver == "1";
                if ok {
                    conn.initialized = true;
                    if let Some(r) = conn.rank {
                        lock(&self.state).pes[r].initialized = true;
                        (self.on_event)(ServerEvent::Initialized(r));
                    }
                }
                vec![Message::new("response_to_init")
                    .with("pmi_version", 1)
                    .with("pmi_subversion", 1)
                    .with("rc", if ok { 0 } else { -1 })]
            }
            "initack" => {
                let id = msg.get("pmiid").and_then(|s| s.parse::<usize>().ok());
                let rank = match (conn.rank, id) {
                    (Some(r), _) => r,
                    (None, id) => {
                        // Without a secret this server takes no anonymous connection.
                        let Some(secret) = &self.secret else {
                            return self.refuse(
                                conn,
                                "initack",
                                "this_server_takes_no_anonymous_connections",
                            );
                        };
                        let given = msg.get("secret").unwrap_or("");
                        if given.is_empty() {
                            return self.refuse(
                                conn,
                                "initack",
                                "missing_secret_(this_job_requires_secret=HEX_from_RSHMEM_PMI_SECRET)",
                            );
                        }
                        let Some(id) = id.filter(|&i| i < self.size) else {
                            return self.refuse(conn, "initack", "invalid_or_missing_pmiid");
                        };
                        // Each rank has its own token: the one of rank `id` and no other.
                        let want = rank_token(secret, id);
                        if !ct_eq(given.as_bytes(), want.as_bytes()) {
                            return self.refuse(conn, "initack", "wrong_secret");
                        }
                        {
                            let mut st = lock(&self.state);
                            if st.pes[id].claimed {
                                drop(st);
                                return self.refuse(
                                    conn,
                                    "initack",
                                    &format!("rank_{id}_is_already_claimed_by_another_connection"),
                                );
                            }
                            st.pes[id].claimed = true;
                        }
                        id
                    }
                };
                conn.rank = Some(rank);
                conn.initialized = true;
                if let Some(f) = conn.on_auth.take() {
                    f();
                }
                self.register(conn);
                {
                    let mut st = lock(&self.state);
                    st.pes[rank].initialized = true;
                }
                (self.on_event)(ServerEvent::Initialized(rank));
                vec![
                    Message::new("initack").with("rc", 0),
                    Message::new("set").with("size", self.size),
                    Message::new("set").with("rank", rank),
                    Message::new("set").with("debug", 0),
                ]
            }
            "get_maxes" => vec![Message::new("maxes")
                .with("kvsname_max", KVSNAME_MAX)
                .with("keylen_max", KEYLEN_MAX)
                .with("vallen_max", VALLEN_MAX)],
            "get_my_kvsname" => {
                vec![Message::new("my_kvsname").with("kvsname", &self.kvsname)]
            }
            "get_universe_size" => vec![Message::new("universe_size").with("size", self.size)],
            "get_appnum" => vec![Message::new("appnum").with("appnum", 0)],
            "put" => {
                const C: &str = "put_result";
                if let Some(e) = self.check_kvsname(C, msg) {
                    return vec![e];
                }
                let Some(key) = msg.get("key") else {
                    return vec![rc_err(C, "missing_key")];
                };
                let Some(value) = msg.get("value") else {
                    return vec![rc_err(C, "missing_value")];
                };
                if key.is_empty() {
                    return vec![rc_err(C, "empty_key")];
                }
                if key.len() > KEYLEN_MAX {
                    return vec![rc_err(
                        C,
                        format!("key_length_{}_exceeds_keylen_max_{KEYLEN_MAX}", key.len()),
                    )];
                }
                if value.len() > VALLEN_MAX {
                    return vec![rc_err(
                        C,
                        format!(
                            "value_length_{}_exceeds_vallen_max_{VALLEN_MAX}",
                            value.len()
                        ),
                    )];
                }
                let Some(rank) = conn.rank else {
                    return vec![rc_err(C, "rank_unknown")];
                };
                if let Some(owner) = key_rank(key).filter(|&r| r != rank) {
                    return vec![rc_err(C, format!("key_{key}_is_reserved_for_rank_{owner}"))];
                }
                let mut st = lock(&self.state);
                match st.kvs.get(key) {
                    Some((_, owner)) if *owner != rank => {
                        let owner = *owner;
                        return vec![rc_err(
                            C,
                            format!("key_{key}_belongs_to_rank_{owner}_and_cannot_be_replaced"),
                        )];
                    }
                    Some(_) => {}
                    None => {
                        if st.keys_of[rank] >= MAX_KEYS_PER_RANK {
                            return vec![rc_err(
                                C,
                                format!(
                                    "rank_{rank}_already_put_{MAX_KEYS_PER_RANK}_keys_(the_limit)"
                                ),
                            )];
                        }
                        st.keys_of[rank] += 1;
                        st.order.push(key.to_string());
                    }
                }
                st.kvs.insert(key.to_string(), (value.to_string(), rank));
                vec![Message::new(C).with("rc", 0).with("msg", "success")]
            }
            "get" => {
                const C: &str = "get_result";
                if let Some(e) = self.check_kvsname(C, msg) {
                    return vec![e];
                }
                let Some(key) = msg.get("key") else {
                    return vec![rc_err(C, "missing_key")];
                };
                let value = if key == "PMI_process_mapping" {
                    Some(match &self.mapping {
                        Some(m) => m.to_string(),
                        None => ProcessMapping::single_node(self.size).to_string(),
                    })
                } else {
                    lock(&self.state).kvs.get(key).map(|(v, _)| v.clone())
                };
                match value {
                    Some(v) => vec![Message::new(C)
                        .with("rc", 0)
                        .with("msg", "success")
                        .with("value", v)],
                    None => vec![rc_err(C, format!("key_{key}_not_found"))],
                }
            }
            "getbyidx" => {
                const C: &str = "getbyidx_results";
                if let Some(e) = self.check_kvsname(C, msg) {
                    return vec![e];
                }
                let idx = msg.get("idx").and_then(|s| s.parse::<usize>().ok());
                let Some(idx) = idx else {
                    return vec![rc_err(C, "missing_or_invalid_idx")];
                };
                let st = lock(&self.state);
                match st.order.get(idx) {
                    Some(k) => vec![Message::new(C)
                        .with("rc", 0)
                        .with("nextidx", idx + 1)
                        .with("key", k)
                        .with("val", &st.kvs[k].0)],
                    None => vec![Message::new(C)
                        .with("rc", -1)
                        .with("reason", "no_more_keyvals")],
                }
            }
            "barrier_in" => {
                let rank = match need_rank("barrier_out") {
                    Ok(r) => r,
                    Err(e) => return vec![e],
                };
                let complete = {
                    let mut st = lock(&self.state);
                    if !st.in_barrier[rank] {
                        st.in_barrier[rank] = true;
                        st.barrier_count += 1;
                    }
                    if st.barrier_count == self.size {
                        st.barrier_count = 0;
                        st.in_barrier.iter_mut().for_each(|b| *b = false);
                        true
                    } else {
                        false
                    }
                };
                if complete {
                    let out = [Message::new("barrier_out")];
                    for w in &self.writers {
                        let w = lock(w).clone();
                        if let Some(w) = w {
                            let _ = write_all(&w, &out);
                        }
                    }
                }
                Vec::new()
            }
            "finalize" => {
                if let Some(r) = conn.rank {
                    lock(&self.state).pes[r].finalized = true;
                    (self.on_event)(ServerEvent::Finalized(r));
                }
                vec![Message::new("finalize_ack")]
            }
            "abort" => {
                let code = msg
                    .get("exitcode")
                    .and_then(|s| s.parse::<i32>().ok())
                    .unwrap_or(1);
                match conn.rank {
                    Some(rank) => {
                        lock(&self.state).pes[rank].aborted = true;
                        (self.on_event)(ServerEvent::Abort { rank, code });
                        Vec::new()
                    }
                    None => vec![rc_err("abort_result", "rank_unknown")],
                }
            }
            other => vec![rc_err(
                &format!("{}_result", sanitize_value(other)),
                "unknown_command",
            )],
        }
    }
}
