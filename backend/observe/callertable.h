#pragma once

#include <QByteArray>
#include <QList>
#include <QStringView>
#include <atomic>
#include <memory>

namespace Outpost::Observe {

// Request counts per caller id (API key ids, user ids), bounded: a fixed-capacity open-addressing
// table that never allocates after construction. An id takes a slot the first time it is seen and
// keeps it for the life of the table (slot indexes are stable, so time series can diff by slot);
// once 3/4 of the slots are taken, or for an id that is not ASCII or is longer than kMaxIdLength,
// requests count in the "other" slot, index capacity().
//
// Why not sharded maps under a mutex: both are bounded and lock-free for ids already seen, but the
// table also needs no allocation and no lock when a new id arrives (a thread that meets a slot
// another thread is filling waits the few nanoseconds until it is filled), and its memory is
// fixed up front (64 bytes a slot).
//
// Thread-safety: count() from any number of threads; the readers from any thread, concurrently.
class CallerTable
{
public:
    static constexpr int kMaxIdLength = 40;

    // `capacity` is rounded up to a power of two.
    explicit CallerTable(int capacity);
    ~CallerTable();
    Q_DISABLE_COPY_MOVE(CallerTable)

    void count(QStringView id) { m_slots[size_t(slotOf(id))].count.fetch_add(1, std::memory_order_relaxed); }

    // Slot indexes run from 0 to capacity(); capacity() is "other".
    int capacity() const { return m_capacity; }
    int otherSlot() const { return m_capacity; }
    // The id in `slot`, empty for a free slot, "_other" for the other slot.
    QByteArray idAt(int slot) const;
    quint64 countAt(int slot) const { return m_slots[size_t(slot)].count.load(std::memory_order_relaxed); }
    int usedSlots() const { return m_used.load(std::memory_order_relaxed); }
    // Every counted id (and "_other" if it counted anything) with its count, in slot order.
    struct Entry
    {
        int slot;
        QByteArray id;
        quint64 count;
    };
    QList<Entry> entries() const;

private:
    // The key word of a slot: 0 free, kBusy while its id is written, else the id's hash with the top
    // bit set (published with release after the id, so a reader that sees it sees the id).
    static constexpr quint64 kBusy = 1;
    struct alignas(64) Slot
    {
        std::atomic<quint64> key {0};
        std::atomic<quint64> count {0};
        quint8 length = 0;
        char id[kMaxIdLength] = {};
    };

    int slotOf(QStringView id);
    bool holds(const Slot &slot, QStringView id) const;

    int m_capacity;
    int m_maxUsed;
    std::atomic<int> m_used {0};
    std::unique_ptr<Slot[]> m_slots; // m_capacity + 1, the last one is "other"
};

} // namespace Outpost::Observe
