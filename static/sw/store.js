/* The phone's IndexedDB (through idb): the queue of writes in the order made, the writes that need
   the rep's attention, and the worker's own state ("meta"). The worker is its only writer. */
import { openDB } from "../vendor/idb-8.0.4/index.js";

export function createStore(name = "tpweb-offline") {
  let opening = null;

  function database() {
    if (!opening) {
      opening = openDB(name, 1, {
        upgrade(db) {
          db.createObjectStore("queue", { keyPath: "id", autoIncrement: true });
          db.createObjectStore("attention", { keyPath: "id" });
          db.createObjectStore("meta");
        },
      }).catch((error) => {
        opening = null;
        throw error;
      });
    }
    return opening;
  }

  return {
    all: async (store) => (await database()).getAll(store),
    get: async (store, key) => (await database()).get(store, key),
    put: async (store, value, key) => (await database()).put(store, value, key),
    remove: async (store, key) => (await database()).delete(store, key),
    meta: async () => (await (await database()).get("meta", "state")) || {},
    // Read and write in one transaction, so that two changes at once do not undo each other.
    async setMeta(changes) {
      const tx = (await database()).transaction("meta", "readwrite");
      const state = (await tx.store.get("state")) || {};
      await tx.store.put({ ...state, ...changes }, "state");
      await tx.done;
    },
  };
}
