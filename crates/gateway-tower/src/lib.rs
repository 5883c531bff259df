//! Serve gateway apps as tower services over hyper (being written).
